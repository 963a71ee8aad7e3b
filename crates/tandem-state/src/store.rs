//! A state on a backend: parse and version checks, the serial, encryption
//! of sensitive values, and locks with a wait.

use crate::backend::{Attempt, Backend, LockInfo};
use crate::crypt::{self, DataKey, KeyHeader, Keyring};
use crate::{parse, State, StateError};
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the engine saves through: a [`Store`], or a bare [`crate::LocalBackend`].
#[async_trait::async_trait]
pub trait StateWriter: Send + Sync {
    /// Write `state`, bumping its serial.
    async fn save_state(&self, state: &mut State) -> Result<(), StateError>;
}

#[async_trait::async_trait]
impl StateWriter for crate::LocalBackend {
    async fn save_state(&self, state: &mut State) -> Result<(), StateError> {
        let me = self.clone();
        let mut s = state.clone();
        let saved = tokio::task::spawn_blocking(move || me.save(&mut s).map(|()| s))
            .await
            .map_err(|e| StateError::Write { at: self.path().display().to_string(), detail: e.to_string() })??;
        *state = saved;
        Ok(())
    }
}

/// One state on one backend, with the keys that may open its secrets.
pub struct Store {
    backend: Arc<dyn Backend>,
    keys: Keyring,
    /// The data key in use and its header, once opened or made.
    key: Mutex<Option<(DataKey, KeyHeader)>>,
    /// Whether the key in `key` is what the wanted provider would make now.
    current: Mutex<Option<bool>>,
    /// Why the state's key could not be opened, if it could not.
    open_error: Mutex<Option<String>>,
    /// Told once when a lock is held by someone else and this store waits.
    on_wait: Mutex<Option<Arc<dyn Fn(&str) + Send + Sync>>>,
}

/// A lock this process holds on a [`Store`]; give it back with [`Store::unlock`].
#[derive(Debug)]
pub struct HeldLock {
    pub info: LockInfo,
}

impl Store {
    pub fn new(backend: Arc<dyn Backend>, keys: Keyring) -> Store {
        Store { backend, keys, key: Mutex::new(None), current: Mutex::new(None), open_error: Mutex::new(None), on_wait: Mutex::new(None) }
    }

    /// Say what a lock wait is waiting for (the CLI prints it).
    pub fn on_lock_wait(&self, f: impl Fn(&str) + Send + Sync + 'static) {
        *self.on_wait.lock().expect("not poisoned") = Some(Arc::new(f));
    }

    pub fn backend(&self) -> &Arc<dyn Backend> {
        &self.backend
    }

    pub fn location(&self) -> String {
        self.backend.location()
    }

    /// Whether a state with secrets can be written: a remote state never
    /// holds them in plaintext.
    pub fn can_write_secrets(&self) -> bool {
        !self.backend.remote() || self.keys.wanted.is_some() || self.key.lock().expect("not poisoned").is_some()
    }

    /// Refuse, before anything changes, a write this store could not finish:
    /// secrets it cannot open, or secrets it could only write in plaintext
    /// to a shared state.
    pub fn check_writable(&self, state: &State) -> Result<(), StateError> {
        if crypt::any_sealed(&serde_json::to_value(state).expect("state serializes")) {
            return Err(self.no_key(state.encryption.as_ref()));
        }
        self.check_can_seal(has_plain_secrets(state))
    }

    /// Refuse when secrets are coming (`secrets`: the spec has sensitive
    /// variables, fields or outputs) and this shared state has no key.
    pub fn check_can_seal(&self, secrets: bool) -> Result<(), StateError> {
        if secrets && !self.can_write_secrets() {
            return Err(StateError::Key(format!(
                "the state {} is shared (a remote backend), so the secrets it will hold are stored encrypted, and no key is configured: set `kms_key_id` in the spec's `backend:` block (or `--backend-config kms_key_id=...`), or ${}",
                self.location(),
                crypt::PASSPHRASE_ENV
            )));
        }
        Ok(())
    }

    fn no_key(&self, header: Option<&KeyHeader>) -> StateError {
        let how = match header {
            Some(KeyHeader::Kms { kms_key_arn, .. }) => format!("AWS credentials allowed to kms:Decrypt with {kms_key_arn}"),
            Some(KeyHeader::Passphrase { .. }) => format!("${} set to its passphrase", crypt::PASSPHRASE_ENV),
            None => "its key".into(),
        };
        let why = self.open_error.lock().expect("not poisoned").clone().map(|e| format!(" ({e})")).unwrap_or_default();
        StateError::Key(format!(
            "the state {} holds encrypted secrets this tandem could not open{why}; reading addresses and ids works without the key (`tandem state list`), but this command needs {how}",
            self.location()
        ))
    }

    /// The stored bytes as they are (secrets stay encrypted).
    pub async fn pull(&self) -> Result<Option<Vec<u8>>, StateError> {
        self.backend.read().await
    }

    /// Read the state; nothing stored is an empty state. Secrets are opened
    /// when a key is at hand, and stay sealed otherwise.
    pub async fn load(&self) -> Result<State, StateError> {
        let Some(bytes) = self.backend.read().await? else {
            return Ok(State::default());
        };
        let mut state = parse(&self.location(), &self.backend.restore_hint(), &String::from_utf8_lossy(&bytes))?;
        self.open(&mut state).await?;
        Ok(state)
    }

    /// Parse a state from bytes (`state push`), opening its secrets if possible.
    pub async fn parse(&self, what: &str, bytes: &[u8]) -> Result<State, StateError> {
        let mut state = parse(what, "Fix the file", &String::from_utf8_lossy(bytes))?;
        self.open(&mut state).await?;
        Ok(state)
    }

    async fn open(&self, state: &mut State) -> Result<(), StateError> {
        let Some(header) = state.encryption.clone() else {
            return Ok(());
        };
        let cached = self.key.lock().expect("not poisoned").clone().filter(|(_, h)| h == &header);
        let key = match cached {
            Some((k, _)) => k,
            None => match self.keys.open(&header, &state.lineage).await {
                Ok(k) => {
                    *self.key.lock().expect("not poisoned") = Some((k.clone(), header.clone()));
                    *self.current.lock().expect("not poisoned") = None;
                    k
                }
                // Without the key the state is still readable, sealed; a
                // command that needs the secrets says why it cannot have them.
                Err(e) => {
                    *self.open_error.lock().expect("not poisoned") = Some(e.to_string());
                    return Ok(());
                }
            },
        };
        let mut opened = state.clone();
        let lineage = state.lineage.clone();
        for r in opened.resources.values_mut() {
            for v in r.properties.values_mut().chain(r.outputs.values_mut()) {
                crypt::open_all(&key, &lineage, v)?;
            }
        }
        for o in opened.outputs.values_mut() {
            crypt::open_all(&key, &lineage, &mut o.value)?;
        }
        *state = opened;
        Ok(())
    }

    /// The key to seal with now, if any: the opened one while it is still
    /// what the configured provider would make, else a new one.
    async fn sealing_key(&self, state: &State) -> Result<Option<(DataKey, KeyHeader)>, StateError> {
        let have = self.key.lock().expect("not poisoned").clone();
        let Some(wanted) = self.keys.wanted.clone() else {
            return Ok(have);
        };
        if let Some((k, h)) = have {
            let known = *self.current.lock().expect("not poisoned");
            let current = match known {
                Some(c) => c,
                None => {
                    let c = wanted.is_current(&h).await;
                    *self.current.lock().expect("not poisoned") = Some(c);
                    c
                }
            };
            if current {
                return Ok(Some((k, h)));
            }
        }
        let made = wanted.new_key(&state.lineage).await?;
        *self.key.lock().expect("not poisoned") = Some(made.clone());
        *self.current.lock().expect("not poisoned") = Some(true);
        Ok(Some(made))
    }

    /// Make a new data key with the configured provider at the next write.
    pub fn rotate(&self) -> Result<(), StateError> {
        if self.keys.wanted.is_none() {
            return Err(StateError::Key(format!(
                "no key is configured to rotate to: set `kms_key_id` in the backend, or ${} (the old passphrase in ${})",
                crypt::PASSPHRASE_ENV,
                crypt::OLD_PASSPHRASE_ENV
            )));
        }
        *self.current.lock().expect("not poisoned") = Some(false);
        Ok(())
    }

    /// The bytes a state is stored as: secrets sealed.
    pub async fn seal(&self, state: &State) -> Result<Vec<u8>, StateError> {
        let mut out = state.clone();
        let still_sealed = any_sealed(&out);
        let secrets = has_plain_secrets(&out);
        if still_sealed {
            // Values that were never opened keep their key; new secrets cannot join them.
            if secrets {
                return Err(self.no_key(out.encryption.as_ref()));
            }
        } else if secrets || self.keys.wanted.is_some() {
            match self.sealing_key(&out).await? {
                Some((key, header)) => {
                    seal_secrets(&mut out, &key);
                    out.encryption = Some(header);
                }
                None if self.backend.remote() => {
                    return Err(StateError::Key(format!(
                        "refusing to write secrets in plaintext to the shared state {}: configure `kms_key_id` or ${}",
                        self.location(),
                        crypt::PASSPHRASE_ENV
                    )))
                }
                None => out.encryption = None,
            }
        } else {
            out.encryption = None;
        }
        let mut text = serde_json::to_string_pretty(&out).expect("state serializes");
        text.push('\n');
        Ok(text.into_bytes())
    }

    /// Write `state` (serial bumped), only over the version last read or written.
    pub async fn save(&self, state: &mut State) -> Result<(), StateError> {
        state.serial += 1;
        let bytes = match self.seal(state).await {
            Ok(b) => b,
            Err(e) => {
                state.serial -= 1;
                return Err(e);
            }
        };
        if let Err(e) = self.backend.write(bytes).await {
            state.serial -= 1;
            return Err(e);
        }
        state.encryption = self.key.lock().expect("not poisoned").as_ref().map(|(_, h)| h.clone()).or(state.encryption.take());
        Ok(())
    }

    /// The key header and data key in use (plan files seal with the same key).
    pub async fn plan_key(&self, state: &State) -> Result<Option<(DataKey, KeyHeader)>, StateError> {
        self.sealing_key(state).await
    }

    /// Open a header found in a plan file.
    pub async fn open_header(&self, header: &KeyHeader, lineage: &str) -> Result<DataKey, StateError> {
        let cached = self.key.lock().expect("not poisoned").clone().filter(|(_, h)| h == header);
        match cached {
            Some((k, _)) => Ok(k),
            None => self.keys.open(header, lineage).await,
        }
    }

    /// Take the lock, waiting up to `timeout` (zero: try once).
    pub async fn lock(&self, operation: &str, timeout: Duration) -> Result<HeldLock, StateError> {
        let info = LockInfo::new(operation);
        let start = Instant::now();
        let mut pause = Duration::from_millis(100);
        let mut told = false;
        loop {
            match self.backend.try_lock(&info).await? {
                Attempt::Taken => return Ok(HeldLock { info }),
                Attempt::Held(holder) => {
                    if start.elapsed() >= timeout {
                        return Err(self.locked(holder, timeout));
                    }
                    if !told {
                        told = true;
                        let f = self.on_wait.lock().expect("not poisoned").clone();
                        if let Some(f) = f {
                            let who = holder.as_ref().map(LockInfo::describe).unwrap_or_else(|| "another tandem process".into());
                            f(&format!(
                                "the state {} is locked by {who}; waiting up to {} for it",
                                self.location(),
                                humantime::format_duration(timeout)
                            ));
                        }
                    }
                    let left = timeout.saturating_sub(start.elapsed());
                    tokio::time::sleep(pause.min(left)).await;
                    pause = (pause * 2).min(Duration::from_secs(2));
                }
            }
        }
    }

    fn locked(&self, holder: Option<LockInfo>, waited: Duration) -> StateError {
        let waited = if waited.is_zero() { String::new() } else { format!(" (waited {})", humantime::format_duration(waited)) };
        let id = holder.as_ref().map(|h| h.id.clone()).filter(|i| !i.is_empty());
        let help = if self.backend.remote() {
            format!(
                "wait for it to finish (`--lock-timeout 5m` waits for it){waited}. If that process is gone (crashed, killed), release its lock with `tandem force-unlock {}`",
                id.as_deref().unwrap_or("LOCK_ID")
            )
        } else {
            format!("wait for it to finish (`--lock-timeout 5m` waits for it){waited}; the lock goes when that process ends")
        };
        StateError::Locked {
            at: self.location(),
            holder: holder.as_ref().map(LockInfo::describe).unwrap_or_else(|| "another tandem process".into()),
            id,
            help,
        }
    }

    pub async fn unlock(&self, lock: HeldLock) -> Result<(), StateError> {
        self.backend.unlock(&lock.info).await
    }

    pub async fn force_unlock(&self, id: &str) -> Result<LockInfo, StateError> {
        self.backend.force_unlock(id).await
    }
}

#[async_trait::async_trait]
impl StateWriter for Store {
    async fn save_state(&self, state: &mut State) -> Result<(), StateError> {
        self.save(state).await
    }
}

fn has_plain_secrets(state: &State) -> bool {
    let plain = |v: Option<&Value>| v.is_some_and(|v| !v.is_null() && !crypt::is_sealed(v));
    // Most resources have no sensitive paths: building their JSON would copy
    // every resource of the state on every write.
    state.resources.values().filter(|r| !r.sensitive.is_empty()).any(|r| {
        let obj = resource_json(r);
        r.sensitive.iter().any(|p| plain(obj.pointer(p)))
    }) || state.outputs.values().any(|o| o.sensitive && plain(Some(&o.value)))
}

/// Whether the state as JSON holds a sealed value anywhere, without building
/// that JSON (a copy of the whole state per write): only properties, outputs
/// and output values hold `Value`s; the rest is names, ids and flags.
fn any_sealed(state: &State) -> bool {
    let map_sealed = |len: usize, envelope: Option<&Value>| len == 1 && envelope.is_some_and(Value::is_string);
    state.resources.values().any(|r| {
        map_sealed(r.properties.len(), r.properties.get(crypt::ENVELOPE))
            || map_sealed(r.outputs.len(), r.outputs.get(crypt::ENVELOPE))
            || r.properties.values().chain(r.outputs.values()).any(crypt::any_sealed)
    }) || state.outputs.values().any(|o| crypt::any_sealed(&o.value))
}

fn resource_json(r: &crate::ResourceState) -> Value {
    serde_json::json!({ "properties": r.properties, "outputs": r.outputs })
}

/// Seal every value a resource marks sensitive, and every sensitive output.
fn seal_secrets(state: &mut State, key: &DataKey) {
    let lineage = state.lineage.clone();
    for r in state.resources.values_mut() {
        if r.sensitive.is_empty() {
            continue;
        }
        let mut obj = resource_json(r);
        for p in &r.sensitive {
            if let Some(v) = obj.pointer_mut(p) {
                if !v.is_null() && !crypt::is_sealed(v) {
                    *v = crypt::seal(key, &lineage, v);
                }
            }
        }
        if let Ok(props) = serde_json::from_value(obj["properties"].take()) {
            r.properties = props;
        }
        if let Ok(outs) = serde_json::from_value(obj["outputs"].take()) {
            r.outputs = outs;
        }
    }
    for o in state.outputs.values_mut().filter(|o| o.sensitive) {
        if !o.value.is_null() && !crypt::is_sealed(&o.value) {
            o.value = crypt::seal(key, &lineage, &o.value);
        }
    }
}
