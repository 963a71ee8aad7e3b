//! `tandem init`, `tandem state ...` and `tandem force-unlock`: the state
//! without the cloud.

use crate::args::{ForceUnlockArgs, InitArgs, StateCommand, StoreArgs};
use crate::backends::{self, state_err, Opened};
use crate::{CmdResult, Failure};
use serde_json::{json, Value};
use std::io::{BufRead, IsTerminal, Write};
use tandem_state::{State, Store};

async fn open(a: &StoreArgs) -> Result<Opened, Failure> {
    backends::open(&a.spec, a.state.as_deref(), &a.backend_config, a.json).await
}

/// Run `body` under the state's lock; the lock goes back whatever happens.
macro_rules! locked {
    ($store:expr, $op:expr, $timeout:expr, $body:expr) => {{
        let lock = $store.lock($op, $timeout).await.map_err(state_err)?;
        let out = $body;
        let released = $store.unlock(lock).await;
        let out = out?;
        released.map_err(state_err)?;
        out
    }};
}
pub(crate) use locked;

pub async fn state(cmd: StateCommand) -> CmdResult {
    match cmd {
        StateCommand::List(a) => list(a).await,
        StateCommand::Show { store, address } => show(store, address).await,
        StateCommand::Rm { store, addresses } => rm(store, addresses).await,
        StateCommand::Mv { store, from, to } => mv(store, from, to).await,
        StateCommand::Pull(a) => pull(a).await,
        StateCommand::Push { store, file, force } => push(store, file, force).await,
        StateCommand::RotateKey(a) => rotate(a).await,
    }
}

async fn list(a: StoreArgs) -> CmdResult {
    let o = open(&a).await?;
    let s = o.store.load().await.map_err(state_err)?;
    if a.json {
        let rows: Vec<Value> =
            s.resources.iter().map(|(k, r)| json!({ "address": k, "type": r.type_name, "region": r.region, "id": r.id })).collect();
        outln!("{}", serde_json::to_string_pretty(&rows).unwrap_or_default());
        return Ok(0);
    }
    let w = s.resources.keys().map(String::len).max().unwrap_or(0);
    let tw = s.resources.values().map(|r| r.type_name.len()).max().unwrap_or(0);
    for (k, r) in &s.resources {
        outln!("{k:w$}  {:tw$}  {}", r.type_name, r.id);
    }
    Ok(0)
}

/// A resource's JSON with every sensitive value (and every sealed one) shown as the marker.
fn redacted(r: &tandem_state::ResourceState) -> Value {
    let mut v = serde_json::to_value(r).unwrap_or_default();
    let marker = Value::String(tandem_schema::SENSITIVE.into());
    for p in &r.sensitive {
        if let Some(x) = v.pointer_mut(p) {
            *x = marker.clone();
        }
    }
    fn walk(v: &mut Value, marker: &Value) {
        if tandem_state::crypt::is_sealed(v) {
            *v = marker.clone();
            return;
        }
        match v {
            Value::Object(m) => m.values_mut().for_each(|x| walk(x, marker)),
            Value::Array(a) => a.iter_mut().for_each(|x| walk(x, marker)),
            _ => {}
        }
    }
    walk(&mut v, &marker);
    if let Value::Object(m) = &mut v {
        m.remove("sensitive");
    }
    v
}

async fn show(a: StoreArgs, address: String) -> CmdResult {
    let o = open(&a).await?;
    let s = o.store.load().await.map_err(state_err)?;
    let Some(r) = s.resources.get(&address) else {
        return Err(Failure::Failed(not_in_state(&s, &address)));
    };
    let v = redacted(r);
    if a.json {
        outln!("{}", serde_json::to_string_pretty(&json!({ "address": address, "resource": v })).unwrap_or_default());
    } else {
        outln!("# {address}");
        outln!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    }
    Ok(0)
}

/// `tandem show`: every resource as the state records it (secrets
/// redacted), then the outputs (sensitive ones redacted).
pub async fn show_all(a: StoreArgs) -> CmdResult {
    let o = open(&a).await?;
    let s = o.store.load().await.map_err(state_err)?;
    let marker = Value::String(tandem_schema::SENSITIVE.into());
    let outputs: serde_json::Map<String, Value> = s
        .outputs
        .iter()
        .map(|(k, v)| (k.clone(), if v.sensitive || tandem_state::crypt::any_sealed(&v.value) { marker.clone() } else { v.value.clone() }))
        .collect();
    if a.json {
        let resources: serde_json::Map<String, Value> = s.resources.iter().map(|(k, r)| (k.clone(), redacted(r))).collect();
        outln!(
            "{}",
            json!({ "format": crate::render::JSON_FORMAT, "serial": s.serial, "lineage": s.lineage, "resources": resources, "outputs": outputs })
        );
        return Ok(0);
    }
    if s.resources.is_empty() {
        outln!("The state records no resources.");
    }
    for (k, r) in &s.resources {
        outln!("# {k}");
        outln!("{}\n", serde_json::to_string_pretty(&redacted(r)).unwrap_or_default());
    }
    if !outputs.is_empty() {
        outln!("Outputs:");
        for (k, v) in &outputs {
            outln!("  {k} = {v}");
        }
    }
    Ok(0)
}

fn not_in_state(s: &State, address: &str) -> String {
    let hint =
        tandem_spec::suggest(address, s.resources.keys().map(String::as_str)).map(|x| format!("; did you mean `{x}`?")).unwrap_or_default();
    format!("`{address}` is not in the state{hint} (`tandem state list` shows what is)")
}

async fn rm(a: StoreArgs, addresses: Vec<String>) -> CmdResult {
    let o = open(&a).await?;
    let store = &o.store;
    let removed = locked!(
        store,
        "state rm",
        a.lock_timeout,
        async {
            let mut s = store.load().await.map_err(state_err)?;
            let mut removed = Vec::new();
            for addr in &addresses {
                let gone = s.remove_resource(addr);
                if gone.is_empty() {
                    return Err(Failure::Failed(not_in_state(&s, addr)));
                }
                removed.extend(gone);
            }
            store.save(&mut s).await.map_err(state_err)?;
            Ok::<_, Failure>(removed)
        }
        .await
    );
    if a.json {
        outln!("{}", json!({ "removed": removed }));
    } else {
        for r in &removed {
            outln!("Removed `{r}` from the state. The cloud object still exists; tandem no longer manages it.");
        }
    }
    Ok(0)
}

async fn mv(a: StoreArgs, from: String, to: String) -> CmdResult {
    let o = open(&a).await?;
    let store = &o.store;
    let moves = locked!(
        store,
        "state mv",
        a.lock_timeout,
        async {
            let mut s = store.load().await.map_err(state_err)?;
            let moves = s.move_resource(&from, &to).map_err(Failure::Failed)?;
            if moves.is_empty() {
                return Err(Failure::Failed(not_in_state(&s, &from)));
            }
            store.save(&mut s).await.map_err(state_err)?;
            Ok::<_, Failure>(moves)
        }
        .await
    );
    if a.json {
        outln!("{}", json!({ "moved": moves }));
    } else {
        for m in &moves {
            outln!("Moved `{}` to `{}`.", m.from, m.to);
        }
    }
    Ok(0)
}

async fn pull(a: StoreArgs) -> CmdResult {
    let o = open(&a).await?;
    match o.store.pull().await.map_err(state_err)? {
        Some(bytes) => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(&bytes);
            Ok(0)
        }
        None => Err(Failure::Failed(format!("there is no state at {} yet", o.store.location()))),
    }
}

async fn push(a: StoreArgs, file: std::path::PathBuf, force: bool) -> CmdResult {
    let o = open(&a).await?;
    let bytes = std::fs::read(&file).map_err(|e| Failure::Failed(format!("cannot read {}: {e}", file.display())))?;
    let store = &o.store;
    let serial = locked!(store, "state push", a.lock_timeout, async {
        let current = store.load().await.map_err(state_err)?;
        let exists = store.pull().await.map_err(state_err)?.is_some();
        let mut incoming = store.parse(&file.display().to_string(), &bytes).await.map_err(state_err)?;
        if exists && !force {
            if incoming.lineage != current.lineage {
                return Err(Failure::Failed(format!(
                    "{} has lineage {}, the state at {} has lineage {}: they are different stacks. Pushing would replace one with the other; if that is really what you want, add --force",
                    file.display(),
                    incoming.lineage,
                    store.location(),
                    current.lineage
                )));
            }
            if incoming.serial < current.serial {
                return Err(Failure::Failed(format!(
                    "{} is older (serial {}) than the state at {} (serial {}): pushing it would lose the writes since. Pull the current state, or add --force",
                    file.display(),
                    incoming.serial,
                    store.location(),
                    current.serial
                )));
            }
            if incoming.serial == current.serial && strip(&incoming) != strip(&current) {
                return Err(Failure::Failed(format!(
                    "{} and the state at {} are both at serial {} but differ: they diverged. Pull, merge by hand and push with a higher serial, or add --force",
                    file.display(),
                    store.location(),
                    current.serial
                )));
            }
        }
        incoming.serial = incoming.serial.max(current.serial);
        store.save(&mut incoming).await.map_err(state_err)?;
        Ok::<_, Failure>(incoming.serial)
    }
    .await);
    outln!("Pushed {} to {} (now serial {serial}).", file.display(), store.location());
    Ok(0)
}

/// A state without what every write changes.
fn strip(s: &State) -> Value {
    let mut v = serde_json::to_value(s).unwrap_or_default();
    if let Value::Object(m) = &mut v {
        m.remove("serial");
        m.remove("encryption");
    }
    v
}

async fn rotate(a: StoreArgs) -> CmdResult {
    let o = open(&a).await?;
    let store = &o.store;
    let header = locked!(
        store,
        "state rotate-key",
        a.lock_timeout,
        async {
            let mut s = store.load().await.map_err(state_err)?;
            store.check_writable(&s).map_err(state_err)?;
            store.rotate().map_err(state_err)?;
            store.save(&mut s).await.map_err(state_err)?;
            Ok::<_, Failure>(s.encryption.clone())
        }
        .await
    );
    match header {
        Some(h) => outln!("Re-encrypted the secrets in {} with {} (key {}).", store.location(), h.describe(), h.key_id()),
        None => outln!("The state {} holds no secrets to encrypt.", store.location()),
    }
    Ok(0)
}

pub async fn force_unlock(a: ForceUnlockArgs) -> CmdResult {
    let o = open(&a.store).await?;
    if !a.force {
        if !std::io::stdin().is_terminal() {
            return Err(Failure::Failed(format!(
                "refusing to remove the lock {} without --force: there is no terminal to confirm. Make sure the process that holds it is gone",
                a.id
            )));
        }
        out!("Remove the lock {} on {}? Only do this if the process holding it is gone. Type `yes`: ", a.id, o.store.location());
        let _ = std::io::stdout().flush();
        let mut line = String::new();
        let _ = std::io::stdin().lock().read_line(&mut line);
        if line.trim() != "yes" {
            outln!("Left the lock in place.");
            return Ok(1);
        }
    }
    let held = o.store.force_unlock(&a.id).await.map_err(state_err)?;
    outln!("Removed the lock {} held by {}. The state {} is unlocked.", a.id, held.describe(), o.store.location());
    Ok(0)
}

pub async fn init(a: InitArgs) -> CmdResult {
    let s = &a.store;
    let (config, explicit) = backends::config(&s.spec, s.state.as_deref(), &s.backend_config, s.json)?;
    let dir = s.spec.parent().filter(|p| !p.as_os_str().is_empty()).map(|p| p.to_path_buf()).unwrap_or_else(|| ".".into());
    let store = backends::open_config(&config, &dir).await;
    let previous = if explicit { None } else { backends::previous(&config, &dir).filter(|p| !backends::same_place(p, &config)) };
    if let Some(prev) = previous {
        if a.reconfigure {
            backends::record(&config, &dir);
            outln!("Now using {}. The state in {} was left as it is, unused.", config.describe(), prev.describe());
            return Ok(0);
        }
        if !a.migrate_state {
            return Err(Failure::Failed(format!(
                "the state is kept in {} and the spec now names {}: add --migrate-state to copy it there, or --reconfigure to start using {} as it is",
                prev.describe(),
                config.describe(),
                config.describe()
            )));
        }
        let old = backends::open_config(&prev, &dir).await;
        let copied = migrate(&old, &store, a.store.lock_timeout, a.force_copy).await?;
        backends::record(&config, &dir);
        match copied {
            Some(st) => outln!(
                "Copied the state ({} resources, lineage {}, now serial {}) from {} to {}. The copy in {} was left as it is; delete it once you no longer need it.",
                st.resources.len(),
                st.lineage,
                st.serial,
                prev.describe(),
                config.describe(),
                prev.describe()
            ),
            None => outln!("{} already holds this state; nothing to copy.", config.describe()),
        }
        return Ok(0);
    }
    if !explicit {
        backends::record(&config, &dir);
    }
    let st = store.load().await.map_err(state_err)?;
    outln!("Backend {} is ready: {} resources, serial {}.", config.describe(), st.resources.len(), st.serial);
    if let tandem_spec::BackendConfig::S3 { .. } = config {
        // A versioned bucket is the state's history; say so when it is off.
        if let Some(s3) = s3_of(&config, &dir).await {
            if let Ok(false) = s3.versioning_enabled().await {
                errln!("warning: versioning is off on the bucket: earlier versions of the state are not kept. Turn it on: aws s3api put-bucket-versioning --bucket BUCKET --versioning-configuration Status=Enabled");
            }
        }
    }
    Ok(0)
}

async fn s3_of(config: &tandem_spec::BackendConfig, _dir: &std::path::Path) -> Option<tandem_state_aws::S3Backend> {
    match config {
        tandem_spec::BackendConfig::S3 { bucket, key, region, lock_key, endpoint, use_path_style, .. } => Some(
            tandem_state_aws::S3Backend::new(tandem_state_aws::S3Config {
                bucket: bucket.clone(),
                key: key.clone(),
                region: region.clone(),
                lock_key: lock_key.clone(),
                endpoint: endpoint.clone(),
                use_path_style: *use_path_style,
            })
            .await,
        ),
        _ => None,
    }
}

/// Copy the state from `old` to `new`, both locked. The lineage is kept, so
/// plans and pushes made against it stay valid.
async fn migrate(old: &Store, new: &Store, timeout: std::time::Duration, force: bool) -> Result<Option<State>, Failure> {
    let l1 = old.lock("init --migrate-state", timeout).await.map_err(state_err)?;
    let result = async {
        let l2 = new.lock("init --migrate-state", timeout).await.map_err(state_err)?;
        let r = async {
            let mut from = old.load().await.map_err(state_err)?;
            old.check_writable(&from).map_err(state_err)?;
            let to = new.load().await.map_err(state_err)?;
            let there = new.pull().await.map_err(state_err)?.is_some();
            if there && to.lineage == from.lineage && to.serial >= from.serial {
                return Ok(None);
            }
            // An older copy of the same state (same lineage) is simply superseded.
            if there && to.lineage != from.lineage && !to.resources.is_empty() && !force {
                return Err(Failure::Failed(format!(
                    "{} already holds a different state ({} resources, lineage {}, serial {}); refusing to overwrite it. Add --force-copy to replace it",
                    new.location(),
                    to.resources.len(),
                    to.lineage,
                    to.serial
                )));
            }
            new.check_writable(&from).map_err(state_err)?;
            from.serial = from.serial.max(to.serial);
            new.save(&mut from).await.map_err(state_err)?;
            Ok(Some(from))
        }
        .await;
        let _ = new.unlock(l2).await;
        r
    }
    .await;
    let _ = old.unlock(l1).await;
    result
}
