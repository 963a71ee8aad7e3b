//! The engine against a recording in-memory kind: plan/apply/destroy/import
//! semantics, ordering, failure isolation and state safety.

use async_trait::async_trait;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tandem_core::{Action, Engine, EngineError, PlanOptions, Silent};
use tandem_provider::{Ctx, Observed, ProviderError, Registry, ResourceKind, Result};
use tandem_schema::{Field, KindSchema, OutputDef, Type};
use tandem_spec::{load, SourceFile, Spec, VarInputs};
use tandem_state::{LocalBackend, State};

#[derive(Default)]
struct Cloud {
    objects: BTreeMap<String, Map<String, Value>>,
    log: Vec<String>,
    next: u32,
    fail_create: Vec<String>,
    /// Creates of these addresses never return once the object is made (a
    /// run that dies mid-wait).
    hang: Vec<String>,
}

struct Fake {
    schema: KindSchema,
    cloud: Arc<Mutex<Cloud>>,
}

#[async_trait]
impl ResourceKind for Fake {
    fn schema(&self) -> &KindSchema {
        &self.schema
    }
    async fn create(&self, ctx: &Ctx, props: &Map<String, Value>) -> Result<Observed> {
        let (id, hang) = {
            let mut c = self.cloud.lock().unwrap();
            if let Some(parent) = props.get("parent").and_then(Value::as_str) {
                if !c.objects.contains_key(parent) {
                    return Err(ProviderError::invalid(format!("parent {parent} does not exist")));
                }
            }
            if c.fail_create.contains(&ctx.address) {
                return Err(ProviderError::invalid("refused by the fake cloud"));
            }
            c.next += 1;
            let id = format!("obj-{}", c.next);
            c.objects.insert(id.clone(), props.clone());
            c.log.push(format!("create {}", ctx.address));
            (id, c.hang.contains(&ctx.address))
        };
        ctx.made(&id).await;
        if hang {
            std::future::pending::<()>().await;
        }
        Ok(observed(&id, props))
    }
    async fn read(&self, _: &Ctx, id: &str) -> Result<Option<Observed>> {
        Ok(self.cloud.lock().unwrap().objects.get(id).map(|p| observed(id, p)))
    }
    async fn update(
        &self,
        ctx: &Ctx,
        id: &str,
        _: &Map<String, Value>,
        desired: &Map<String, Value>,
        changed: &[String],
    ) -> Result<Observed> {
        let mut c = self.cloud.lock().unwrap();
        c.log.push(format!("update {} {}", ctx.address, changed.join(",")));
        c.objects.insert(id.to_string(), desired.clone());
        Ok(observed(id, desired))
    }
    async fn delete(&self, ctx: &Ctx, id: &str, _: &Map<String, Value>) -> Result<()> {
        let mut c = self.cloud.lock().unwrap();
        let children: Vec<String> =
            c.objects.iter().filter(|(_, p)| p.get("parent").and_then(Value::as_str) == Some(id)).map(|(k, _)| k.clone()).collect();
        if !children.is_empty() {
            return Err(ProviderError::new(tandem_provider::ErrorClass::Conflict, format!("{id} has dependents {children:?}")));
        }
        c.objects.remove(id);
        c.log.push(format!("delete {}", ctx.address));
        Ok(())
    }
}

fn observed(id: &str, p: &Map<String, Value>) -> Observed {
    let mut outputs = BTreeMap::new();
    outputs.insert("arn".into(), json!(format!("arn:fake:{id}")));
    Observed { id: id.into(), properties: p.clone(), outputs }
}

struct World {
    cloud: Arc<Mutex<Cloud>>,
    engine: Engine,
    backend: LocalBackend,
    _dir: tempfile::TempDir,
}

fn world() -> World {
    let cloud = Arc::new(Mutex::new(Cloud::default()));
    let schema = KindSchema {
        type_name: "fake.thing",
        doc: "",
        api_reference: "",
        regional: false,
        properties: vec![
            Field::new("name", Type::String).required().force_new(),
            Field::new("size", Type::Integer),
            Field::new("parent", Type::String).force_new(),
            Field::new("tags", Type::map(Type::String)),
        ],
        outputs: vec![OutputDef::new("arn", "")],
        name_field: Some("name"),
        import_id: "the object id",
    };
    let mut reg = Registry::new();
    reg.register(Arc::new(Fake { schema, cloud: cloud.clone() }));
    let dir = tempfile::tempdir().unwrap();
    let backend = LocalBackend::new(dir.path().join("state.json"));
    World { cloud, engine: Engine::new(reg, Arc::new(Silent)), backend, _dir: dir }
}

impl World {
    fn spec(&self, text: &str) -> Spec {
        let schemas = self.engine.schemas();
        load(SourceFile { name: "t.yaml".into(), text: text.into() }, &VarInputs::default(), &schemas).unwrap()
    }
    fn spec_err(&self, text: &str) -> String {
        let schemas = self.engine.schemas();
        load(SourceFile { name: "t.yaml".into(), text: text.into() }, &VarInputs::default(), &schemas)
            .err()
            .map(|p| p.to_string())
            .unwrap_or_default()
    }
    async fn plan(&self, text: &str) -> tandem_core::Plan {
        let spec = self.spec(text);
        self.engine.plan(&spec, &self.backend.load().unwrap(), &PlanOptions::default()).await.unwrap()
    }
    async fn apply(&self, text: &str) -> tandem_core::Summary {
        let spec = self.spec(text);
        let state = self.backend.load().unwrap();
        let plan = self.engine.plan(&spec, &state, &PlanOptions::default()).await.unwrap();
        self.engine.apply(&spec, &plan, &self.backend, state).await.unwrap()
    }
    async fn destroy(&self, text: &str) -> std::result::Result<tandem_core::Summary, EngineError> {
        let spec = self.spec(text);
        let state = self.backend.load().unwrap();
        let plan = self.engine.plan(&spec, &state, &PlanOptions { destroy: true, ..Default::default() }).await?;
        self.engine.apply(&spec, &plan, &self.backend, state).await
    }
    fn log(&self) -> Vec<String> {
        std::mem::take(&mut self.cloud.lock().unwrap().log)
    }
}

const SPEC: &str = r#"version: 1
resources:
  net:
    type: fake.thing
    properties: { size: 1, tags: { a: "1" } }
  sub:
    type: fake.thing
    properties: { parent: "${net.id}", size: 2 }
  other:
    type: fake.thing
    properties: { size: 3 }
outputs:
  net_arn: ${net.arn}
"#;

#[tokio::test]
async fn apply_then_plan_shows_no_changes() {
    let w = world();
    let p = w.plan(SPEC).await;
    assert_eq!(p.count(Action::Create), 3);
    let sub = p.change("sub").unwrap();
    assert!(sub.fields.iter().any(|f| f.field == "parent" && f.after_unknown), "{sub:?}");
    let s = w.apply(SPEC).await;
    assert!(s.ok(), "{s:?}");
    assert_eq!(s.created.len(), 3);
    let log = w.log();
    assert!(log.iter().position(|l| l == "create net") < log.iter().position(|l| l == "create sub"));
    let state = w.backend.load().unwrap();
    assert_eq!(state.outputs["net_arn"].value, json!(format!("arn:fake:{}", state.resources["net"].id)));
    assert_eq!(state.resources["sub"].properties["name"], "sub", "name defaults to the key");
    assert!(state.resources["sub"].dependencies.contains("net"));
    let again = w.plan(SPEC).await;
    assert!(!again.has_changes(), "{again:?}");
}

#[tokio::test]
async fn update_in_place_and_replace_with_cascade() {
    let w = world();
    w.apply(SPEC).await;
    w.log();
    let p = w.plan(&SPEC.replace("size: 3", "size: 4")).await;
    let c = p.change("other").unwrap();
    assert_eq!(c.action, Action::Update);
    assert_eq!(c.fields[0].field, "size");
    assert_eq!(c.fields[0].before, Some(json!(3)));
    assert_eq!(c.fields[0].after, Some(json!(4)));
    w.apply(&SPEC.replace("size: 3", "size: 4")).await;
    assert_eq!(w.log(), vec!["update other size"]);

    // Renaming the network forces its replacement; the subnet's parent id becomes
    // unknown, which forces the subnet's replacement too, in the right order.
    let renamed = SPEC.replace("size: 3", "size: 4").replace("properties: { size: 1,", "properties: { name: net2, size: 1,");
    let p = w.plan(&renamed).await;
    assert_eq!(p.change("net").unwrap().action, Action::Replace);
    assert!(p.change("net").unwrap().reasons[0].contains("`name` forces replacement"));
    assert_eq!(p.change("sub").unwrap().action, Action::Replace);
    let s = w.apply(&renamed).await;
    assert!(s.ok(), "{s:?}");
    assert_eq!(w.log(), vec!["delete sub", "delete net", "create net", "create sub"]);
    assert!(!w.plan(&renamed).await.has_changes());
}

#[tokio::test]
async fn drift_is_seen_and_removed_objects_are_recreated() {
    let w = world();
    w.apply(SPEC).await;
    let id = w.backend.load().unwrap().resources["other"].id.clone();
    w.cloud.lock().unwrap().objects.get_mut(&id).unwrap().insert("size".into(), json!(9));
    let p = w.plan(SPEC).await;
    let c = p.change("other").unwrap();
    assert_eq!((c.action, c.fields[0].before.clone()), (Action::Update, Some(json!(9))));
    w.cloud.lock().unwrap().objects.remove(&id);
    let p = w.plan(SPEC).await;
    assert_eq!(p.change("other").unwrap().action, Action::Create);
    assert_eq!(p.change("other").unwrap().reasons, vec!["deleted outside tandem"]);
    assert!(w.apply(SPEC).await.ok());
    assert!(!w.plan(SPEC).await.has_changes());
}

#[tokio::test]
async fn failure_fails_only_its_branch() {
    let w = world();
    w.cloud.lock().unwrap().fail_create.push("net".into());
    let s = w.apply(SPEC).await;
    assert_eq!(s.failed.len(), 1);
    assert_eq!(s.failed[0].address, "net");
    assert_eq!(s.skipped, vec![("sub".to_string(), "net".to_string())]);
    assert_eq!(s.created, vec!["other".to_string()]);
    let state = w.backend.load().unwrap();
    assert!(state.resources.contains_key("other"), "state saved for what finished");
    w.cloud.lock().unwrap().fail_create.clear();
    let s = w.apply(SPEC).await;
    assert_eq!(s.created.len(), 2, "{s:?}");
}

#[tokio::test]
async fn destroy_goes_in_reverse_and_respects_prevent_destroy() {
    let w = world();
    w.apply(SPEC).await;
    w.log();
    let protected =
        SPEC.replace("  other:\n    type: fake.thing\n", "  other:\n    type: fake.thing\n    lifecycle: { prevent_destroy: true }\n");
    w.apply(&protected).await;
    let e = w.destroy(&protected).await.unwrap_err();
    assert!(e.to_string().contains("`other` has lifecycle.prevent_destroy set"), "{e}");
    assert_eq!(w.cloud.lock().unwrap().objects.len(), 3, "nothing deleted when refused");
    let s = w.destroy(SPEC).await.unwrap();
    assert_eq!(s.deleted.len(), 3, "{s:?}");
    let log = w.log();
    assert!(log.iter().position(|l| l == "delete sub") < log.iter().position(|l| l == "delete net"), "{log:?}");
    assert!(w.cloud.lock().unwrap().objects.is_empty());
    assert!(w.backend.load().unwrap().resources.is_empty());
}

#[tokio::test]
async fn removed_resources_are_deleted_dependents_first() {
    let w = world();
    w.apply(SPEC).await;
    w.log();
    let only_other = "version: 1\nresources:\n  other:\n    type: fake.thing\n    properties: { size: 3 }\n";
    let p = w.plan(only_other).await;
    assert_eq!(p.count(Action::Delete), 2);
    assert_eq!(p.change("net").unwrap().reasons, vec!["no longer in the spec"]);
    assert!(w.apply(only_other).await.ok());
    assert_eq!(w.log(), vec!["delete sub", "delete net"]);
}

#[tokio::test]
async fn stale_saved_plans_are_refused() {
    let w = world();
    let spec = w.spec(SPEC);
    let state = w.backend.load().unwrap();
    let plan = w.engine.plan(&spec, &state, &PlanOptions::default()).await.unwrap();
    w.apply(SPEC).await; // the state moves on
    let e = w.engine.apply(&spec, &plan, &w.backend, w.backend.load().unwrap()).await.unwrap_err();
    assert!(e.to_string().contains("the state changed since this plan was made"), "{e}");
}

#[tokio::test]
async fn import_records_then_plan_shows_differences() {
    let w = world();
    let mut props = Map::new();
    props.insert("name".into(), json!("other"));
    props.insert("size".into(), json!(7));
    w.cloud.lock().unwrap().objects.insert("manual-1".into(), props);
    let spec = w.spec(SPEC);
    let state = w.engine.import(&spec, &w.backend, w.backend.load().unwrap(), "other", "manual-1").await.unwrap();
    assert_eq!(state.resources["other"].id, "manual-1");
    let p = w.plan(SPEC).await;
    let c = p.change("other").unwrap();
    assert_eq!(c.action, Action::Update);
    assert_eq!(c.fields.iter().find(|f| f.field == "size").unwrap().before, Some(json!(7)));
    let e = w.engine.import(&spec, &w.backend, w.backend.load().unwrap(), "other", "manual-1").await.unwrap_err();
    assert!(e.to_string().contains("already in the state"));
    let e = w.engine.import(&spec, &w.backend, w.backend.load().unwrap(), "net", "nope").await.unwrap_err();
    assert!(e.to_string().contains("no fake.thing with id `nope`"), "{e}");
    let e = w.engine.import(&spec, &w.backend, w.backend.load().unwrap(), "ohter", "x").await.unwrap_err();
    assert!(e.to_string().contains("Did you mean `other`?"), "{e}");
}

#[tokio::test]
async fn cycles_are_reported_with_their_path() {
    let w = world();
    let text = "version: 1\nresources:\n  b:\n    type: fake.thing\n    properties: { parent: \"${a.id}\" }\n  a:\n    type: fake.thing\n    properties: { parent: \"${c.id}\" }\n  c:\n    type: fake.thing\n    properties: { parent: \"${b.id}\" }\n";
    let spec = w.spec(text);
    let e = w.engine.check(&spec).err().unwrap();
    let msg = e.to_string();
    assert!(msg.contains("t.yaml:6:3: dependency cycle: a -> b -> c -> a"), "{msg}");
}

#[tokio::test]
async fn targets_limit_the_plan_to_a_resource_and_its_needs() {
    let w = world();
    let spec = w.spec(SPEC);
    let state = w.backend.load().unwrap();
    let p = w.engine.plan(&spec, &state, &PlanOptions { targets: vec!["sub".into()], ..Default::default() }).await.unwrap();
    let addrs: Vec<&str> = p.changes.iter().map(|c| c.address.as_str()).collect();
    assert_eq!(addrs, vec!["net", "sub"]);
    let e = w.engine.plan(&spec, &state, &PlanOptions { targets: vec!["sbu".into()], ..Default::default() }).await.unwrap_err();
    assert!(e.to_string().contains("did you mean `sub`?"), "{e}");
}

#[tokio::test]
async fn stages_select_their_resources_and_what_they_need() {
    let w = world();
    let text = "version: 1\nresources:\n  net:\n    type: fake.thing\n    stage: base\n    properties: { size: 1 }\n  sub:\n    type: fake.thing\n    stage: routing\n    for_each: [east, west]\n    properties: { parent: \"${net.id}\" }\n  other:\n    type: fake.thing\n    properties: { size: 2 }\n";
    let spec = w.spec(text);
    let state = w.backend.load().unwrap();
    let stage = |s: &str| PlanOptions { stages: vec![s.into()], ..Default::default() };
    let p = w.engine.plan(&spec, &state, &stage("base")).await.unwrap();
    let addrs: Vec<&str> = p.changes.iter().map(|c| c.address.as_str()).collect();
    assert_eq!(addrs, vec!["net"]);
    let p = w.engine.plan(&spec, &state, &stage("routing")).await.unwrap();
    let mut addrs: Vec<&str> = p.changes.iter().map(|c| c.address.as_str()).collect();
    addrs.sort();
    assert_eq!(addrs, vec!["net", "sub[east]", "sub[west]"], "a stage brings what it needs");
    let e = w.engine.plan(&spec, &state, &stage("routnig")).await.unwrap_err().to_string();
    assert!(e.contains("did you mean `routing`?") && e.contains("the stages of this spec: base, routing"), "{e}");
    w.apply(text).await;
    let p = w
        .engine
        .plan(&spec, &w.backend.load().unwrap(), &PlanOptions { destroy: true, stages: vec!["base".into()], ..Default::default() })
        .await
        .unwrap();
    assert_eq!(
        p.changes.len(),
        3,
        "destroying a stage takes what depends on it: {:?}",
        p.changes.iter().map(|c| &c.address).collect::<Vec<_>>()
    );
    let bad = w.spec_err("version: 1\nresources:\n  net:\n    type: fake.thing\n    stage: \"a b\"\n    properties: { size: 1 }\n");
    assert!(bad.contains("t.yaml:5:12") && bad.contains("`stage` must be a name"), "{bad}");
}

#[tokio::test]
async fn state_keeps_lineage_and_bumps_serial() {
    let w = world();
    w.apply(SPEC).await;
    let s1: State = w.backend.load().unwrap();
    w.apply(&SPEC.replace("size: 3", "size: 5")).await;
    let s2 = w.backend.load().unwrap();
    assert_eq!(s1.lineage, s2.lineage);
    assert!(s2.serial > s1.serial);
}

#[tokio::test]
async fn for_each_instances_apply_with_their_own_names() {
    let w = world();
    let text = "version: 1\nresources:\n  net:\n    type: fake.thing\n    for_each: [east, west]\n    properties: { size: 1 }\n  sub:\n    type: fake.thing\n    for_each: [east, west]\n    properties: { parent: \"${net[each.key].id}\" }\n";
    let s = w.apply(text).await;
    assert_eq!(s.created.len(), 4, "{s:?}");
    let state = w.backend.load().unwrap();
    assert_eq!(state.resources["net[west]"].properties["name"], "net-west");
    assert_eq!(state.resources["sub[west]"].properties["parent"], json!(state.resources["net[west]"].id));
    assert!(!w.plan(text).await.has_changes());
    let spec = w.spec(text);
    let p = w
        .engine
        .plan(&spec, &w.backend.load().unwrap(), &PlanOptions { destroy: true, targets: vec!["sub".into()], ..Default::default() })
        .await
        .unwrap();
    assert_eq!(p.changes.len(), 2, "destroying the subs leaves the nets");
    let p = w
        .engine
        .plan(&spec, &w.backend.load().unwrap(), &PlanOptions { destroy: true, targets: vec!["net[east]".into()], ..Default::default() })
        .await
        .unwrap();
    let addrs: Vec<&str> = p.changes.iter().map(|c| c.address.as_str()).collect();
    assert_eq!(addrs, vec!["net[east]", "sub[east]"], "destroying a net takes what needs it");
}

struct Strict(KindSchema);

#[async_trait]
impl ResourceKind for Strict {
    fn schema(&self) -> &KindSchema {
        &self.0
    }
    fn validate(&self, region: Option<&str>, props: &Map<String, Value>) -> Vec<tandem_provider::Invalid> {
        let mut out = Vec::new();
        if props.get("size").and_then(Value::as_i64).is_some_and(|s| s % 10 != 0) {
            out.push(tandem_provider::Invalid::new("size", format!("size must be a multiple of 10 in {}", region.unwrap_or("?"))));
        }
        out
    }
    async fn create(&self, _: &Ctx, _: &Map<String, Value>) -> Result<Observed> {
        unreachable!()
    }
    async fn read(&self, _: &Ctx, _: &str) -> Result<Option<Observed>> {
        Ok(None)
    }
    async fn update(&self, _: &Ctx, _: &str, _: &Map<String, Value>, _: &Map<String, Value>, _: &[String]) -> Result<Observed> {
        unreachable!()
    }
    async fn delete(&self, _: &Ctx, _: &str, _: &Map<String, Value>) -> Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn kind_rules_point_at_the_field() {
    let schema = KindSchema {
        type_name: "fake.strict",
        doc: "",
        api_reference: "",
        regional: true,
        properties: vec![Field::new("size", Type::Integer)],
        outputs: vec![],
        name_field: None,
        import_id: "",
    };
    let mut reg = Registry::new();
    reg.register(Arc::new(Strict(schema)));
    let engine = Engine::new(reg, Arc::new(Silent));
    let schemas = engine.schemas();
    let text = "version: 1\nresources:\n  a:\n    type: fake.strict\n    region: eu-west-2\n    properties:\n      size: 15\n";
    let spec = load(SourceFile { name: "t.yaml".into(), text: text.into() }, &VarInputs::default(), &schemas).unwrap();
    let e = engine.check(&spec).err().unwrap().to_string();
    assert!(e.contains("t.yaml:7:13: size must be a multiple of 10 in eu-west-2"), "{e}");
}

#[tokio::test]
async fn a_moved_rename_plans_no_change_and_apply_records_it() {
    let w = world();
    assert!(w.apply(SPEC).await.ok());
    w.log();
    let renamed = SPEC.replace("  net:\n", "  network:\n").replace("${net.", "${network.") + "moved:\n  - { from: net, to: network }\n";
    let p = w.plan(&renamed).await;
    assert!(!p.has_changes(), "{p:#?}");
    assert_eq!(p.moved, vec![tandem_state::Move { from: "net".into(), to: "network".into() }]);
    assert_eq!(p.change("network").unwrap().action, Action::NoOp);
    // Without `moved`, the same rename is a delete and a create.
    let without = renamed.split("moved:").next().unwrap().to_string();
    let p2 = w.plan(&without).await;
    assert_eq!(p2.change("net").unwrap().action, Action::Delete);
    assert_eq!(p2.change("network").unwrap().action, Action::Create);
    // Apply records the move and makes no cloud call.
    let spec = w.spec(&renamed);
    let state = w.backend.load().unwrap();
    let before = state.serial;
    let s = w.engine.apply(&spec, &p, &w.backend, state).await.unwrap();
    assert!(s.ok() && s.created.is_empty() && s.deleted.is_empty(), "{s:?}");
    assert!(w.log().is_empty());
    let after = w.backend.load().unwrap();
    assert!(after.resources.contains_key("network") && !after.resources.contains_key("net"));
    assert!(after.resources["sub"].dependencies.contains("network"));
    assert_eq!(after.serial, before + 1);
    // Once recorded, the moved block is a no-op; dropping it changes nothing either.
    assert!(!w.plan(&without).await.has_changes());
}

#[tokio::test]
async fn secrets_are_marked_for_encryption_in_state() {
    let w = world();
    let text = r#"version: 1
variables:
  token: { type: string, default: s3cr3t, sensitive: true }
resources:
  t:
    type: fake.thing
    properties: { size: 1, tags: { token: "${var.token}" } }
"#;
    assert!(w.apply(text).await.ok());
    let st = w.backend.load().unwrap();
    assert_eq!(st.resources["t"].sensitive, vec!["/properties/tags".to_string()]);
    // And plans never show it.
    let changed = text.replace("s3cr3t", "n3w-s3cr3t");
    let p = w.plan(&changed).await;
    let f = &p.change("t").unwrap().fields;
    let shown = serde_json::to_string(f).unwrap();
    assert!(!shown.contains("s3cr3t"), "{shown}");
}

#[tokio::test]
async fn import_many_checks_every_address_first_then_records_what_it_found() {
    let w = world();
    w.apply("version: 1\nresources:\n  a:\n    type: fake.thing\n    properties: { size: 1 }\n  b:\n    type: fake.thing\n    properties: { size: 2 }\n").await;
    let ids: Vec<String> = w.backend.load().unwrap().resources.values().map(|r| r.id.clone()).collect();
    std::fs::remove_file(w.backend.path()).unwrap();
    let spec = w.spec(SPEC);
    let e = w
        .engine
        .import_many(&spec, &w.backend, State::default(), &[("net".into(), ids[0].clone()), ("nett".into(), "x".into())])
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("`nett` is not a resource") && e.contains("Did you mean `net`?"), "{e}");
    assert!(!w.backend.path().exists(), "nothing written when an address is wrong");
    let (state, results) = w
        .engine
        .import_many(
            &spec,
            &w.backend,
            State::default(),
            &[("net".into(), ids[0].clone()), ("other".into(), ids[1].clone()), ("sub".into(), "obj-404".into())],
        )
        .await
        .unwrap();
    assert_eq!(results.iter().filter(|r| r.result.is_ok()).count(), 2);
    assert!(results[2].result.as_ref().unwrap_err().contains("no fake.thing with id `obj-404`"));
    assert_eq!(state.serial, 1, "one write for the batch");
    assert_eq!(w.backend.load().unwrap().resources.len(), 2);
}

const ONE: &str = "version: 1\nresources:\n  other:\n    type: fake.thing\n    properties: { size: 3 }\n";

/// A run that dies while a create waits leaves the id in the journal; the
/// next plan adopts the object (tainted: replaced), and destroy deletes what
/// the journal found, so the fake cloud ends empty.
#[tokio::test]
async fn an_abandoned_create_is_adopted_from_the_journal() {
    let w = world();
    w.cloud.lock().unwrap().hang.push("other".into());
    let spec = w.spec(ONE);
    let state = w.backend.load().unwrap();
    let plan = w.engine.plan(&spec, &state, &PlanOptions::default()).await.unwrap();
    // The apply is dropped (as a killed process stops) once the journal holds the id.
    let apply = w.engine.apply(&spec, &plan, &w.backend, state);
    let watch = async {
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            if w.backend.load().unwrap().pending.get("other").is_some_and(|p| p.id.is_some()) {
                break;
            }
        }
    };
    tokio::select! {
        _ = apply => panic!("the create of `other` never returns"),
        _ = watch => {}
    }
    let left = w.backend.load().unwrap();
    let made = left.pending["other"].id.clone().unwrap();
    assert!(!left.resources.contains_key("other"));
    assert!(w.cloud.lock().unwrap().objects.contains_key(&made));

    w.cloud.lock().unwrap().hang.clear();
    let p = w.plan(ONE).await;
    assert_eq!(p.pending.len(), 1, "{p:?}");
    assert_eq!(p.pending[0].outcome, tandem_core::PendingOutcome::Adopted { id: made.clone() });
    assert_eq!(p.change("other").unwrap().action, Action::Replace, "{p:?}");
    let s = w.apply(ONE).await;
    assert!(s.ok(), "{s:?}");
    let after = w.backend.load().unwrap();
    assert!(after.pending.is_empty(), "{:?}", after.pending);
    assert!(!w.cloud.lock().unwrap().objects.contains_key(&made), "the adopted object was replaced");
    w.destroy(ONE).await.unwrap();
    assert!(w.cloud.lock().unwrap().objects.is_empty(), "{:?}", w.cloud.lock().unwrap().objects);
}
