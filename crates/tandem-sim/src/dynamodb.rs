//! DynamoDB global tables, version 2019.11.21: replicas made with
//! `UpdateTable` + `ReplicaUpdates` (Create / Update / Delete). moto accepts
//! `ReplicaUpdates` and silently ignores them, so the sandbox intercepts such
//! an `UpdateTable`, keeps the replicas itself, and adds them (and the table
//! status they imply) to the table descriptions moto returns.
//!
//! Rules (UpdateTable, https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateTable.html,
//! and the global tables developer guide):
//! - "While it's UPDATING, you can't issue another UpdateTable request":
//!   a replica change puts the table in UPDATING until the replica settles,
//!   and another change meanwhile is a `ResourceInUseException` ("You tried to
//!   update a resource that was already being updated").
//! - One replica change per request and one at a time per table.
//! - The table's own region cannot be changed through ReplicaUpdates
//!   (ValidationException); creating an existing replica or deleting / updating
//!   a missing one is a ValidationException.
//! - Adding a replica needs DynamoDB Streams enabled with
//!   NEW_AND_OLD_IMAGES (ValidationException otherwise).
//!
//! Errors go out with the `__type` DynamoDB really sends:
//! `com.amazon.coral.validate#ValidationException` for validation errors,
//! `com.amazonaws.dynamodb.v20120810#<Name>` for the others (the SDKs keep the
//! part after `#`).
//!
//! - A PROVISIONED table takes a replica only when Application Auto Scaling
//!   manages its write capacity (a scalable target and a scaling policy on
//!   `dynamodb:table:WriteCapacityUnits`, and on
//!   `dynamodb:index:WriteCapacityUnits` for each global secondary index):
//!   "A global table must have throughput capacity configured one of two ways:
//!   On-demand capacity mode ... Provisioned capacity mode with auto scaling"
//!   (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2globaltables_reqs_bestpractices.html).
//!   Otherwise UpdateTable answers the ValidationException DynamoDB sends,
//!   "Table write capacity should either be Pay-Per-Request or AutoScaled."
//!   ("GSI write capacity ..." for an index), as reported in
//!   hashicorp/terraform-provider-aws#13097 and fixed in aws/aws-cdk#12159.
//!   The server asks the upstream's Application Auto Scaling ([`WriteScaling`]).
//!
//! Replica regions: the server makes the replica's table in the upstream in
//! the replica region (same keys, indexes and billing, the source's items
//! copied) when the replica is created, and deletes it when the replica is
//! deleted. DescribeTable there is answered with
//! [`Replicas::describe_in_replica_region`] (the replica's status and the
//! other regions as `Replicas`). Items written in any region of a global
//! table reach the others after a lag (latency kind `item-replication` of
//! service `dynamodb`), last writer wins, deletes included: "Any changes made
//! to any item in any replica table are replicated to all the other replicas
//! within the same global table ... a last writer wins reconciliation"
//! (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2globaltables_HowItWorks.html).
//! [`Replicas::record_write`] queues what a write changed; the server applies
//! what is due ([`Replicas::take_due`]) before it serves any DynamoDB call,
//! so replication is computed from time like every other state here.
//!
//! Eventual consistency (`/_tandem/consistency`, service `dynamodb`): "If you
//! issue a DescribeTable request immediately after a CreateTable request,
//! DynamoDB might return a ResourceNotFoundException"
//! (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_DescribeTable.html):
//! for `not_found_ms` after a CreateTable, DescribeTable of that table answers
//! ResourceNotFoundException ([`Replicas::hidden`]).

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use serde_json::{json, Value};

use crate::env::SimEnv;
use crate::error::ApiError;
use crate::support::phase::Phase;

const SERVICE: &str = "dynamodb";
pub const VALIDATION: &str = "com.amazon.coral.validate#ValidationException";
pub const RESOURCE_IN_USE: &str = "com.amazonaws.dynamodb.v20120810#ResourceInUseException";
pub const RESOURCE_NOT_FOUND: &str = "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException";
pub const GLOBAL_TABLE_VERSION: &str = "2019.11.21";

fn validation(message: impl Into<String>) -> ApiError {
    ApiError::new(400, VALIDATION, message)
}

fn in_use(message: impl Into<String>) -> ApiError {
    ApiError::new(400, RESOURCE_IN_USE, message)
}

#[derive(Debug, Clone)]
struct Replica {
    region: String,
    kms_key: Option<String>,
    /// `None` once the change is done: the replica is gone.
    phase: Phase<Option<&'static str>>,
}

#[derive(Debug, Clone, Default)]
struct Table {
    replicas: Vec<Replica>,
    /// The source table's last description seen (for replica-region reads).
    snapshot: Value,
}

/// Replicas per (account, source region, table name).
#[derive(Default)]
pub struct Replicas {
    tables: HashMap<(String, String, String), Table>,
    /// (account, region, table) -> when CreateTable made it (DescribeTable
    /// answers not found for the consistency lag in force after that).
    created: HashMap<(String, String, String), Instant>,
    /// Writes on their way to other regions.
    pending: Vec<ReplicatedWrite>,
    /// (account, source region, table, region, key) -> the sequence number of
    /// the last write applied there (last writer wins).
    applied: BTreeMap<(String, String, String, String, String), u64>,
    next_seq: u64,
}

/// Which write capacities of a PROVISIONED table Application Auto Scaling
/// manages (a scalable target with a scaling policy).
#[derive(Debug, Clone, Default)]
pub struct WriteScaling {
    pub table: bool,
    /// Global secondary indexes whose write capacity is autoscaled.
    pub indexes: Vec<String>,
}

/// One item change on its way to another region of a global table.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicatedWrite {
    /// Where it lands.
    pub region: String,
    pub table: String,
    /// The item's key (attribute name -> attribute value).
    pub key: Value,
    /// The item as it is after the write; `None`: deleted.
    pub item: Option<Value>,
    group: (String, String, String),
    key_id: String,
    seq: u64,
    /// When the write was made; it is due once the `item-replication` lag
    /// in force has passed since (read when checked, so a changed latency
    /// model applies to writes in flight too).
    made: Instant,
}

/// The billing mode of a table description (DescribeTable omits
/// BillingModeSummary for tables that were always PROVISIONED).
pub fn billing_mode(desc: &Value) -> &str {
    desc.get("BillingModeSummary").and_then(|b| b.get("BillingMode")).and_then(Value::as_str).unwrap_or("PROVISIONED")
}

/// Names of the global secondary indexes of a table description.
pub fn index_names(desc: &Value) -> Vec<String> {
    desc.get("GlobalSecondaryIndexes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|i| i.get("IndexName").and_then(Value::as_str))
        .map(str::to_string)
        .collect()
}

/// The CreateTable input that makes a replica's table like the source's.
pub fn replica_table_input(desc: &Value) -> Value {
    let mut input = json!({
        "TableName": desc.get("TableName").cloned().unwrap_or(Value::Null),
        "AttributeDefinitions": desc.get("AttributeDefinitions").cloned().unwrap_or(json!([])),
        "KeySchema": desc.get("KeySchema").cloned().unwrap_or(json!([])),
        "BillingMode": billing_mode(desc),
    });
    let provisioned = billing_mode(desc) == "PROVISIONED";
    let throughput = |v: Option<&Value>| {
        let v = v.cloned().unwrap_or(Value::Null);
        json!({"ReadCapacityUnits": v.get("ReadCapacityUnits").and_then(Value::as_i64).unwrap_or(1).max(1), "WriteCapacityUnits": v.get("WriteCapacityUnits").and_then(Value::as_i64).unwrap_or(1).max(1)})
    };
    if provisioned {
        input["ProvisionedThroughput"] = throughput(desc.get("ProvisionedThroughput"));
    }
    if let Some(s) = desc.get("StreamSpecification").filter(|s| s.is_object()) {
        input["StreamSpecification"] = s.clone();
    }
    let gsis: Vec<Value> = desc
        .get("GlobalSecondaryIndexes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|g| {
            let mut i = json!({"IndexName": g.get("IndexName"), "KeySchema": g.get("KeySchema"), "Projection": g.get("Projection")});
            if provisioned {
                i["ProvisionedThroughput"] = throughput(g.get("ProvisionedThroughput"));
            }
            i
        })
        .collect();
    if !gsis.is_empty() {
        input["GlobalSecondaryIndexes"] = Value::Array(gsis);
    }
    input
}

/// The key of `item` under a table's key attributes.
fn key_of(item: &Value, names: &[String]) -> Option<Value> {
    let mut key = serde_json::Map::new();
    for n in names {
        key.insert(n.clone(), item.get(n)?.clone());
    }
    Some(Value::Object(key))
}

/// `TableName` may be a name or a table ARN (`arn:aws:dynamodb:r:a:table/name`).
fn table_name(input: &Value) -> Option<&str> {
    let raw = input.get("TableName")?.as_str()?;
    Some(match raw.strip_prefix("arn:") {
        Some(_) => raw.rsplit_once(":table/").map(|(_, n)| n.split('/').next().unwrap_or(n)).unwrap_or(raw),
        None => raw,
    })
}

fn valid_region(r: &str) -> bool {
    // e.g. us-east-1, eu-central-2, ap-northeast-3, us-gov-west-1
    let parts: Vec<&str> = r.split('-').collect();
    parts.len() >= 3
        && parts[..parts.len() - 1].iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

/// Members of UpdateTableInput that change something other than replicas.
const OTHER_UPDATES: &[&str] = &[
    "AttributeDefinitions",
    "BillingMode",
    "ProvisionedThroughput",
    "GlobalSecondaryIndexUpdates",
    "StreamSpecification",
    "SSESpecification",
    "TableClass",
    "DeletionProtectionEnabled",
    "OnDemandThroughput",
    "WarmThroughput",
    "GlobalTableWitnessUpdates",
];

fn replace_region(s: &str, from: &str, to: &str) -> String {
    s.replacen(&format!(":{from}:"), &format!(":{to}:"), 1)
}

impl Replicas {
    /// True for the calls the sandbox answers itself: UpdateTable with a
    /// non-empty `ReplicaUpdates`.
    pub fn intercepts(&self, op: &str, input: &Value) -> bool {
        op == "UpdateTable" && input.get("ReplicaUpdates").and_then(Value::as_array).is_some_and(|a| !a.is_empty())
    }

    fn key(env: &SimEnv, name: &str) -> (String, String, String) {
        (env.account.to_string(), env.region.to_string(), name.to_string())
    }

    /// Replicas still present at `now` (gone ones are dropped).
    fn live(table: &mut Table, now: Instant) -> Vec<(String, &'static str, Option<String>)> {
        table.replicas.retain(|r| r.phase.state(now).is_some());
        table.replicas.iter().map(|r| (r.region.clone(), r.phase.state(now).unwrap_or("ACTIVE"), r.kms_key.clone())).collect()
    }

    /// Answers an intercepted UpdateTable. `table_description` is upstream's
    /// DescribeTable `Table` for the table (the server fetches it first; a
    /// missing table is upstream's ResourceNotFoundException, which the server
    /// returns as is).
    pub fn update_table(&mut self, env: &SimEnv, input: &Value, table_description: &Value) -> Result<Value, ApiError> {
        let all = WriteScaling { table: true, indexes: index_names(table_description) };
        self.update_table_scaled(env, input, table_description, &all)
    }

    /// [`Replicas::update_table`], knowing which write capacities of the
    /// table are autoscaled (what a replica of a PROVISIONED table needs).
    pub fn update_table_scaled(
        &mut self,
        env: &SimEnv,
        input: &Value,
        table_description: &Value,
        scaling: &WriteScaling,
    ) -> Result<Value, ApiError> {
        let name = table_name(input).ok_or_else(|| {
            validation("1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null")
        })?;
        if let Some(other) = OTHER_UPDATES.iter().find(|k| input.get(**k).is_some_and(|v| !v.is_null())) {
            // UpdateTable: "You can only perform one of the following operations at once".
            return Err(validation(format!("ReplicaUpdates cannot be combined with {other} in one UpdateTable request")));
        }
        let updates = input.get("ReplicaUpdates").and_then(Value::as_array).ok_or_else(|| validation("ReplicaUpdates must be a list"))?;
        if updates.len() != 1 {
            return Err(validation("Only one replica update (Create, Update or Delete) is allowed per UpdateTable request"));
        }
        let update = &updates[0];
        let actions: Vec<(&str, &Value)> =
            ["Create", "Update", "Delete"].iter().filter_map(|k| update.get(*k).filter(|v| !v.is_null()).map(|v| (*k, v))).collect();
        let (action, body) = match actions.as_slice() {
            [one] => *one,
            _ => return Err(validation("Each ReplicationGroupUpdate must contain exactly one of Create, Update or Delete")),
        };
        let region = body
            .get("RegionName")
            .and_then(Value::as_str)
            .ok_or_else(|| validation(format!("1 validation error detected: Value null at 'replicaUpdates.1.member.{}.regionName' failed to satisfy constraint: Member must not be null", action.to_lowercase())))?;
        if !valid_region(region) {
            return Err(validation(format!("Invalid region name: {region}")));
        }
        if region == env.region {
            return Err(validation(
                "Cannot add, delete, or update the local region through ReplicaUpdates. Use CreateTable, DeleteTable, or UpdateTable as required.",
            ));
        }

        let status = table_description.get("TableStatus").and_then(Value::as_str).unwrap_or("ACTIVE");
        let key = Self::key(env, name);
        let now = env.now;
        let table = self.tables.entry(key).or_default();
        let replicas = Self::live(table, now);
        if status != "ACTIVE" || replicas.iter().any(|(_, s, _)| *s != "ACTIVE") {
            return Err(in_use(format!("Attempt to change a resource which is still in use: Table is being updated: {name}")));
        }
        let existing = table.replicas.iter().position(|r| r.region == region);
        match action {
            "Create" => {
                if existing.is_some() {
                    return Err(validation(format!(
                        "Failed to create a the new replica of table with name: '{name}' because one or more replicas already existed as tables."
                    )));
                }
                let stream = table_description.get("StreamSpecification");
                let enabled = stream.and_then(|s| s.get("StreamEnabled")).and_then(Value::as_bool).unwrap_or(false);
                let view = stream.and_then(|s| s.get("StreamViewType")).and_then(Value::as_str).unwrap_or("");
                if !enabled || view != "NEW_AND_OLD_IMAGES" {
                    return Err(validation(format!(
                        "Table {name} must have DynamoDB Streams enabled with StreamViewType NEW_AND_OLD_IMAGES to add a replica (found: {})",
                        if enabled { view } else { "streams disabled" }
                    )));
                }
                if billing_mode(table_description) == "PROVISIONED" {
                    if !scaling.table {
                        return Err(validation("Table write capacity should either be Pay-Per-Request or AutoScaled."));
                    }
                    if index_names(table_description).iter().any(|i| !scaling.indexes.contains(i)) {
                        return Err(validation("GSI write capacity should either be Pay-Per-Request or AutoScaled."));
                    }
                }
                table.replicas.push(Replica {
                    region: region.to_string(),
                    kms_key: body.get("KMSMasterKeyId").and_then(Value::as_str).map(str::to_string),
                    phase: Phase { before: "CREATING", after: Some("ACTIVE"), at: env.ready_at(SERVICE, "replica") },
                });
            }
            "Update" => {
                let i = existing.ok_or_else(|| {
                    validation(format!("Update global table operation failed because replica {region} does not exist for table {name}"))
                })?;
                let r = &mut table.replicas[i];
                if let Some(k) = body.get("KMSMasterKeyId").and_then(Value::as_str) {
                    r.kms_key = Some(k.to_string());
                }
                r.phase = Phase { before: "UPDATING", after: Some("ACTIVE"), at: env.ready_at(SERVICE, "replica") };
            }
            _ => {
                let i = existing
                    .ok_or_else(|| validation(format!("Replica {region} cannot be deleted because it does not exist for table {name}")))?;
                table.replicas[i].phase = Phase { before: "DELETING", after: None, at: env.gone_at(SERVICE, "replica") };
            }
        }
        let mut desc = table_description.clone();
        // The answer shows the in-progress state of the change just made.
        let list: Vec<Value> = table
            .replicas
            .iter()
            .map(|r| {
                let state = if r.region == region { r.phase.before } else { r.phase.state(now).unwrap_or(r.phase.before) };
                replica_json(env, name, &r.region, state, &r.kms_key)
            })
            .collect();
        if let Some(obj) = desc.as_object_mut() {
            obj.insert("TableStatus".into(), json!("UPDATING"));
            obj.insert("GlobalTableVersion".into(), json!(GLOBAL_TABLE_VERSION));
            obj.insert("Replicas".into(), Value::Array(list));
        }
        table.snapshot = table_description.clone();
        Ok(json!({ "TableDescription": desc }))
    }

    /// Adds `Replicas`, `GlobalTableVersion` and the table status replicas
    /// imply to upstream's answers: DescribeTable (`Table`), UpdateTable /
    /// CreateTable / DeleteTable (`TableDescription`). CreateTable and
    /// DeleteTable forget the table's replica records.
    pub fn augment(&mut self, env: &SimEnv, op: &str, input: &Value, response: &mut Value) {
        let Some(name) = table_name(input) else { return };
        let key = Self::key(env, name);
        match op {
            "CreateTable" | "DeleteTable" => {
                self.tables.remove(&key);
                self.pending.retain(|w| w.group != key);
                if op == "DeleteTable" {
                    self.created.remove(&key);
                }
            }
            "DescribeTable" | "UpdateTable" => {
                let member = if op == "DescribeTable" { "Table" } else { "TableDescription" };
                let Some(desc) = response.get_mut(member).filter(|d| d.is_object()) else { return };
                let Some(table) = self.tables.get_mut(&key) else { return };
                table.snapshot = desc.clone();
                let replicas = Self::live(table, env.now);
                if replicas.is_empty() {
                    return;
                }
                let busy = replicas.iter().any(|(_, s, _)| *s != "ACTIVE");
                let list: Vec<Value> = replicas.iter().map(|(r, s, k)| replica_json(env, name, r, s, k)).collect();
                let obj = desc.as_object_mut().expect("checked above");
                if busy && obj.get("TableStatus").and_then(Value::as_str) == Some("ACTIVE") {
                    obj.insert("TableStatus".into(), json!("UPDATING"));
                }
                obj.insert("GlobalTableVersion".into(), json!(GLOBAL_TABLE_VERSION));
                obj.insert("Replicas".into(), Value::Array(list));
            }
            _ => {}
        }
    }

    /// DescribeTable called in a replica's region: the replica's description
    /// (from the source table's last known description), or None when no
    /// replica of that table exists in `env.region`. Its `Replicas` lists the
    /// other regions of the global table, the source included.
    pub fn describe_in_replica_region(&mut self, env: &SimEnv, input: &Value) -> Option<Value> {
        let name = table_name(input)?;
        let now = env.now;
        let (key, table) = self
            .tables
            .iter_mut()
            .find(|((acct, _, n), t)| acct == env.account && n == name && t.replicas.iter().any(|r| r.region == env.region))?;
        let source_region = key.1.clone();
        let replicas = Self::live(table, now);
        let (_, own_state, _) = replicas.iter().find(|(r, _, _)| r == env.region)?.clone();
        let mut desc = table.snapshot.clone();
        let obj = desc.as_object_mut()?;
        for k in ["TableArn", "LatestStreamArn"] {
            if let Some(s) = obj.get(k).and_then(Value::as_str) {
                let s = replace_region(s, &source_region, env.region);
                obj.insert(k.into(), json!(s));
            }
        }
        let status = match own_state {
            "CREATING" => "CREATING",
            "DELETING" => "DELETING",
            "UPDATING" => "UPDATING",
            _ => "ACTIVE",
        };
        obj.insert("TableStatus".into(), json!(status));
        obj.insert("GlobalTableVersion".into(), json!(GLOBAL_TABLE_VERSION));
        let mut list = vec![replica_json(env, name, &source_region, "ACTIVE", &None)];
        list.extend(replicas.iter().filter(|(r, _, _)| r != env.region).map(|(r, s, k)| replica_json(env, name, r, s, k)));
        obj.insert("Replicas".into(), Value::Array(list));
        Some(json!({ "Table": desc }))
    }
}

impl Replicas {
    /// A CreateTable of `name` in `env.region` succeeded: DescribeTable of it
    /// answers not found until the consistency lag has passed.
    pub fn note_created(&mut self, env: &SimEnv, name: &str) {
        self.created.insert(Self::key(env, name), env.now);
    }

    /// Whether DescribeTable of `input`'s table answers not found for now.
    /// The lag is the one in force now, so switching the knob off shows the
    /// table at once.
    pub fn hidden(&mut self, env: &SimEnv, input: &Value) -> bool {
        let Some(name) = table_name(input) else { return false };
        self.created.get(&Self::key(env, name)).is_some_and(|made| *made + env.latency.not_found_after_create(SERVICE) > env.now)
    }

    /// The global table `name` seen from `region`: its key (account, source
    /// region, name) when `region` is its source or holds a replica that is
    /// not being deleted.
    fn group(&self, account: &str, region: &str, name: &str, now: Instant) -> Option<(String, String, String)> {
        self.tables
            .iter()
            .find(|((a, src, n), t)| {
                a == account
                    && n == name
                    && (src == region
                        || t.replicas.iter().any(|r| r.region == region && !matches!(r.phase.state(now), None | Some("DELETING"))))
            })
            .map(|(k, _)| k.clone())
    }

    /// The other regions of a group that take writes now.
    fn members(&self, group: &(String, String, String), now: Instant) -> Vec<String> {
        let Some(t) = self.tables.get(group) else { return Vec::new() };
        let mut out = vec![group.1.clone()];
        out.extend(t.replicas.iter().filter(|r| !matches!(r.phase.state(now), None | Some("DELETING"))).map(|r| r.region.clone()));
        out
    }

    /// The regions holding replicas of the source table `name` in `env.region`
    /// (what goes with it when it is deleted).
    pub fn replica_regions(&self, env: &SimEnv, name: &str) -> Vec<String> {
        self.tables.get(&Self::key(env, name)).map(|t| t.replicas.iter().map(|r| r.region.clone()).collect()).unwrap_or_default()
    }

    /// The key attribute names of a global table, from its last description.
    pub fn key_names(&self, env: &SimEnv, name: &str) -> Option<Vec<String>> {
        let g = self.group(env.account, env.region, name, env.now)?;
        let names: Vec<String> = self
            .tables
            .get(&g)?
            .snapshot
            .get("KeySchema")?
            .as_array()?
            .iter()
            .filter_map(|k| k.get("AttributeName").and_then(Value::as_str))
            .map(str::to_string)
            .collect();
        (!names.is_empty()).then_some(names)
    }

    /// A write in `env.region` changed the item at `key` of `table` to `item`
    /// (`None`: deleted). When the table is a global table, the change is
    /// queued for its other regions, due after the `item-replication` lag.
    pub fn record_write(&mut self, env: &SimEnv, table: &str, key: &Value, item: Option<Value>) {
        let Some(group) = self.group(env.account, env.region, table, env.now) else { return };
        let Some(names) = self.key_names(env, table) else { return };
        let Some(key) = key_of(key, &names) else { return };
        let key_id = key.to_string();
        self.next_seq += 1;
        let seq = self.next_seq;
        self.applied.insert((group.0.clone(), group.1.clone(), group.2.clone(), env.region.to_string(), key_id.clone()), seq);
        for region in self.members(&group, env.now).into_iter().filter(|r| r != env.region) {
            self.pending.push(ReplicatedWrite {
                region,
                table: table.to_string(),
                key: key.clone(),
                item: item.clone(),
                group: group.clone(),
                key_id: key_id.clone(),
                seq,
                made: env.now,
            });
        }
    }

    /// The replicated writes due at `now`, in the order they were made, less
    /// those a later write in their region already overtook (last writer
    /// wins) or whose region left the table; each returned one counts as
    /// applied.
    pub fn take_due(&mut self, latency: &dyn crate::env::LatencyModel, now: Instant) -> Vec<ReplicatedWrite> {
        let (mut due, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|w| w.made + latency.creation(SERVICE, "item-replication", &w.region) <= now);
        self.pending = rest;
        due.sort_by_key(|w| w.seq);
        let mut out = Vec::new();
        for w in due {
            if !self.members(&w.group, now).contains(&w.region) {
                continue;
            }
            let slot = self
                .applied
                .entry((w.group.0.clone(), w.group.1.clone(), w.group.2.clone(), w.region.clone(), w.key_id.clone()))
                .or_default();
            if *slot < w.seq {
                *slot = w.seq;
                out.push(w);
            }
        }
        out
    }
}

fn replica_json(env: &SimEnv, table: &str, region: &str, status: &str, kms: &Option<String>) -> Value {
    let mut v = json!({
        "RegionName": region,
        "ReplicaStatus": status,
        "ReplicaArn": format!("arn:aws:dynamodb:{region}:{}:table/{table}", env.account),
    });
    if let Some(k) = kms {
        v["KMSMasterKeyId"] = json!(k);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::TestLatency;
    use std::time::Duration;

    static LAT: TestLatency = TestLatency::fixed(Duration::from_secs(10));

    fn env_at(t0: Instant, secs: u64) -> SimEnv<'static> {
        SimEnv { region: "us-east-1", account: "111122223333", now: t0 + Duration::from_secs(secs), latency: &LAT }
    }

    fn table(view: Option<&str>) -> Value {
        let mut t = json!({
            "TableName": "agent-state",
            "TableStatus": "ACTIVE",
            "TableArn": "arn:aws:dynamodb:us-east-1:111122223333:table/agent-state",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        });
        if let Some(v) = view {
            t["StreamSpecification"] = json!({"StreamEnabled": true, "StreamViewType": v});
            t["LatestStreamArn"] = json!("arn:aws:dynamodb:us-east-1:111122223333:table/agent-state/stream/2026-01-01T00:00:00.000");
        }
        t
    }

    fn create(region: &str) -> Value {
        json!({"TableName": "agent-state", "ReplicaUpdates": [{"Create": {"RegionName": region}}]})
    }

    fn err_type(r: Result<Value, ApiError>) -> String {
        r.expect_err("expected an error").code
    }

    #[test]
    fn intercepts_only_update_table_with_replica_updates() {
        let r = Replicas::default();
        assert!(r.intercepts("UpdateTable", &create("us-west-2")));
        assert!(!r.intercepts("UpdateTable", &json!({"TableName": "t", "ReplicaUpdates": []})));
        assert!(!r.intercepts("UpdateTable", &json!({"TableName": "t", "BillingMode": "PAY_PER_REQUEST"})));
        assert!(!r.intercepts("DescribeTable", &create("us-west-2")));
    }

    #[test]
    fn create_replica_creating_then_active_and_table_updating() {
        let t0 = Instant::now();
        let mut r = Replicas::default();
        let desc = table(Some("NEW_AND_OLD_IMAGES"));
        let out = r.update_table(&env_at(t0, 0), &create("us-west-2"), &desc).unwrap();
        let td = &out["TableDescription"];
        assert_eq!(td["TableStatus"], "UPDATING");
        assert_eq!(td["GlobalTableVersion"], "2019.11.21");
        assert_eq!(
            td["Replicas"],
            json!([{"RegionName": "us-west-2", "ReplicaStatus": "CREATING", "ReplicaArn": "arn:aws:dynamodb:us-west-2:111122223333:table/agent-state"}])
        );
        assert_eq!(td["KeySchema"], desc["KeySchema"]);

        let mut resp = json!({"Table": desc.clone()});
        r.augment(&env_at(t0, 5), "DescribeTable", &json!({"TableName": "agent-state"}), &mut resp);
        assert_eq!(resp["Table"]["TableStatus"], "UPDATING");
        assert_eq!(resp["Table"]["Replicas"][0]["ReplicaStatus"], "CREATING");

        // One replica change at a time.
        let e = r.update_table(&env_at(t0, 5), &create("eu-west-2"), &desc).unwrap_err();
        assert_eq!(e.code, RESOURCE_IN_USE);

        let mut resp = json!({"Table": desc.clone()});
        r.augment(
            &env_at(t0, 10),
            "DescribeTable",
            &json!({"TableName": "arn:aws:dynamodb:us-east-1:111122223333:table/agent-state"}),
            &mut resp,
        );
        assert_eq!(resp["Table"]["TableStatus"], "ACTIVE");
        assert_eq!(resp["Table"]["Replicas"][0]["ReplicaStatus"], "ACTIVE");

        // Now a second replica is fine, and the first one shows as ACTIVE.
        let out = r.update_table(&env_at(t0, 11), &create("eu-west-2"), &desc).unwrap();
        let reps = out["TableDescription"]["Replicas"].as_array().unwrap();
        assert_eq!(reps.len(), 2);
        assert_eq!(reps[0]["ReplicaStatus"], "ACTIVE");
        assert_eq!(reps[1]["ReplicaStatus"], "CREATING");
    }

    #[test]
    fn validation_rules() {
        let t0 = Instant::now();
        let mut r = Replicas::default();
        let env = env_at(t0, 0);
        let ok = table(Some("NEW_AND_OLD_IMAGES"));
        // Streams must be on, with NEW_AND_OLD_IMAGES.
        assert_eq!(err_type(r.update_table(&env, &create("us-west-2"), &table(None))), VALIDATION);
        assert_eq!(err_type(r.update_table(&env, &create("us-west-2"), &table(Some("NEW_IMAGE")))), VALIDATION);
        // Not the local region, a real region name, one action.
        assert_eq!(err_type(r.update_table(&env, &create("us-east-1"), &ok)), VALIDATION);
        assert_eq!(err_type(r.update_table(&env, &create("mars"), &ok)), VALIDATION);
        let two = json!({"TableName": "agent-state", "ReplicaUpdates": [{"Create": {"RegionName": "us-west-2"}}, {"Create": {"RegionName": "eu-west-1"}}]});
        assert_eq!(err_type(r.update_table(&env, &two, &ok)), VALIDATION);
        let both = json!({"TableName": "agent-state", "ReplicaUpdates": [{"Create": {"RegionName": "us-west-2"}, "Delete": {"RegionName": "us-west-2"}}]});
        assert_eq!(err_type(r.update_table(&env, &both, &ok)), VALIDATION);
        let mixed = json!({"TableName": "agent-state", "BillingMode": "PAY_PER_REQUEST", "ReplicaUpdates": [{"Create": {"RegionName": "us-west-2"}}]});
        assert_eq!(err_type(r.update_table(&env, &mixed, &ok)), VALIDATION);
        // Delete / Update of a missing replica.
        let del = json!({"TableName": "agent-state", "ReplicaUpdates": [{"Delete": {"RegionName": "us-west-2"}}]});
        assert_eq!(err_type(r.update_table(&env, &del, &ok)), VALIDATION);
        let upd = json!({"TableName": "agent-state", "ReplicaUpdates": [{"Update": {"RegionName": "us-west-2", "KMSMasterKeyId": "k"}}]});
        assert_eq!(err_type(r.update_table(&env, &upd, &ok)), VALIDATION);
        // A table that is itself not ACTIVE.
        let mut creating = ok.clone();
        creating["TableStatus"] = json!("CREATING");
        assert_eq!(err_type(r.update_table(&env, &create("us-west-2"), &creating)), RESOURCE_IN_USE);
        // Create of an existing replica.
        r.update_table(&env, &create("us-west-2"), &ok).unwrap();
        assert_eq!(err_type(r.update_table(&env_at(t0, 20), &create("us-west-2"), &ok)), VALIDATION);
        // Update of an existing one: UPDATING then ACTIVE.
        let out = r.update_table(&env_at(t0, 20), &upd, &ok).unwrap();
        assert_eq!(out["TableDescription"]["Replicas"][0]["ReplicaStatus"], "UPDATING");
        assert_eq!(out["TableDescription"]["Replicas"][0]["KMSMasterKeyId"], "k");
    }

    #[test]
    fn delete_replica_then_gone() {
        let t0 = Instant::now();
        let mut r = Replicas::default();
        let ok = table(Some("NEW_AND_OLD_IMAGES"));
        r.update_table(&env_at(t0, 0), &create("us-west-2"), &ok).unwrap();
        let del = json!({"TableName": "agent-state", "ReplicaUpdates": [{"Delete": {"RegionName": "us-west-2"}}]});
        let out = r.update_table(&env_at(t0, 10), &del, &ok).unwrap();
        assert_eq!(out["TableDescription"]["Replicas"][0]["ReplicaStatus"], "DELETING");
        let mut resp = json!({"Table": ok.clone()});
        r.augment(&env_at(t0, 15), "DescribeTable", &json!({"TableName": "agent-state"}), &mut resp);
        assert_eq!(resp["Table"]["Replicas"][0]["ReplicaStatus"], "DELETING");
        assert_eq!(resp["Table"]["TableStatus"], "UPDATING");
        let mut resp = json!({"Table": ok.clone()});
        r.augment(&env_at(t0, 20), "DescribeTable", &json!({"TableName": "agent-state"}), &mut resp);
        assert!(resp["Table"].get("Replicas").is_none());
        assert_eq!(resp["Table"]["TableStatus"], "ACTIVE");
        // And it can be created again.
        r.update_table(&env_at(t0, 21), &create("us-west-2"), &ok).unwrap();
    }

    #[test]
    fn augment_update_and_delete_table_answers() {
        let t0 = Instant::now();
        let mut r = Replicas::default();
        let ok = table(Some("NEW_AND_OLD_IMAGES"));
        r.update_table(&env_at(t0, 0), &create("us-west-2"), &ok).unwrap();
        let mut resp = json!({"TableDescription": ok.clone()});
        r.augment(&env_at(t0, 30), "UpdateTable", &json!({"TableName": "agent-state", "BillingMode": "PAY_PER_REQUEST"}), &mut resp);
        assert_eq!(resp["TableDescription"]["Replicas"][0]["ReplicaStatus"], "ACTIVE");
        // Other regions and tables are untouched.
        let west = SimEnv { region: "us-west-2", ..env_at(t0, 30) };
        let mut other = json!({"Table": ok.clone()});
        r.augment(&west, "DescribeTable", &json!({"TableName": "agent-state"}), &mut other);
        assert!(other["Table"].get("Replicas").is_none());
        let mut resp = json!({"TableDescription": ok.clone()});
        r.augment(&env_at(t0, 31), "DeleteTable", &json!({"TableName": "agent-state"}), &mut resp);
        let mut resp = json!({"Table": ok.clone()});
        r.augment(&env_at(t0, 32), "DescribeTable", &json!({"TableName": "agent-state"}), &mut resp);
        assert!(resp["Table"].get("Replicas").is_none());
        // Error answers are left alone.
        let mut err = json!({"__type": RESOURCE_NOT_FOUND, "message": "x"});
        r.augment(&env_at(t0, 32), "DescribeTable", &json!({"TableName": "agent-state"}), &mut err);
        assert_eq!(err, json!({"__type": RESOURCE_NOT_FOUND, "message": "x"}));
    }

    #[test]
    fn describe_in_replica_region() {
        let t0 = Instant::now();
        let mut r = Replicas::default();
        let ok = table(Some("NEW_AND_OLD_IMAGES"));
        r.update_table(&env_at(t0, 0), &create("us-west-2"), &ok).unwrap();
        let west = SimEnv { region: "us-west-2", ..env_at(t0, 1) };
        let d = r.describe_in_replica_region(&west, &json!({"TableName": "agent-state"})).unwrap();
        assert_eq!(d["Table"]["TableStatus"], "CREATING");
        assert_eq!(d["Table"]["TableArn"], "arn:aws:dynamodb:us-west-2:111122223333:table/agent-state");
        assert_eq!(
            d["Table"]["Replicas"],
            json!([{"RegionName": "us-east-1", "ReplicaStatus": "ACTIVE", "ReplicaArn": "arn:aws:dynamodb:us-east-1:111122223333:table/agent-state"}])
        );
        let west = SimEnv { region: "us-west-2", ..env_at(t0, 11) };
        assert_eq!(r.describe_in_replica_region(&west, &json!({"TableName": "agent-state"})).unwrap()["Table"]["TableStatus"], "ACTIVE");
        let eu = SimEnv { region: "eu-west-1", ..env_at(t0, 11) };
        assert!(r.describe_in_replica_region(&eu, &json!({"TableName": "agent-state"})).is_none());
        assert!(r.describe_in_replica_region(&west, &json!({"TableName": "other"})).is_none());
    }

    #[test]
    fn zero_latency_answers_in_progress_then_settles() {
        let t0 = Instant::now();
        let mut r = Replicas::default();
        let zero = crate::env::Instant0;
        let env = SimEnv { region: "us-east-1", account: "111122223333", now: t0, latency: &zero };
        let out = r.update_table(&env, &create("us-west-2"), &table(Some("NEW_AND_OLD_IMAGES"))).unwrap();
        assert_eq!(out["TableDescription"]["Replicas"][0]["ReplicaStatus"], "CREATING");
        let later = SimEnv { now: t0 + Duration::from_millis(1), ..env };
        let mut resp = json!({"Table": table(Some("NEW_AND_OLD_IMAGES"))});
        r.augment(&later, "DescribeTable", &json!({"TableName": "agent-state"}), &mut resp);
        assert_eq!(resp["Table"]["Replicas"][0]["ReplicaStatus"], "ACTIVE");
    }

    #[test]
    fn a_provisioned_table_takes_a_replica_only_with_write_auto_scaling() {
        let t0 = Instant::now();
        let mut r = Replicas::default();
        let mut desc = table(Some("NEW_AND_OLD_IMAGES"));
        desc["BillingModeSummary"] = json!({"BillingMode": "PROVISIONED"});
        desc["GlobalSecondaryIndexes"] = json!([{"IndexName": "by-queue"}]);
        let none = WriteScaling::default();
        let e = r.update_table_scaled(&env_at(t0, 0), &create("us-west-2"), &desc, &none).unwrap_err();
        assert_eq!(
            (e.status, e.code.as_str(), e.message.as_str()),
            (400, VALIDATION, "Table write capacity should either be Pay-Per-Request or AutoScaled.")
        );
        let table_only = WriteScaling { table: true, indexes: vec![] };
        let e = r.update_table_scaled(&env_at(t0, 0), &create("us-west-2"), &desc, &table_only).unwrap_err();
        assert_eq!(e.message, "GSI write capacity should either be Pay-Per-Request or AutoScaled.");
        let all = WriteScaling { table: true, indexes: vec!["by-queue".into()] };
        r.update_table_scaled(&env_at(t0, 0), &create("us-west-2"), &desc, &all).unwrap();
        // On-demand needs nothing.
        let mut on_demand = table(Some("NEW_AND_OLD_IMAGES"));
        on_demand["TableName"] = json!("other");
        on_demand["BillingModeSummary"] = json!({"BillingMode": "PAY_PER_REQUEST"});
        let input = json!({"TableName": "other", "ReplicaUpdates": [{"Create": {"RegionName": "us-west-2"}}]});
        r.update_table_scaled(&env_at(t0, 0), &input, &on_demand, &none).unwrap();
        assert_eq!(billing_mode(&json!({})), "PROVISIONED", "DescribeTable leaves BillingModeSummary out for always-provisioned tables");
    }

    #[test]
    fn replica_tables_are_made_like_the_source() {
        let mut desc = table(Some("NEW_AND_OLD_IMAGES"));
        desc["AttributeDefinitions"] = json!([{"AttributeName": "pk", "AttributeType": "S"}]);
        desc["BillingModeSummary"] = json!({"BillingMode": "PAY_PER_REQUEST"});
        desc["TableStatus"] = json!("ACTIVE");
        let input = replica_table_input(&desc);
        assert_eq!(input["TableName"], "agent-state");
        assert_eq!(input["BillingMode"], "PAY_PER_REQUEST");
        assert!(input.get("ProvisionedThroughput").is_none());
        assert_eq!(input["StreamSpecification"]["StreamViewType"], "NEW_AND_OLD_IMAGES");
        assert!(input.get("TableStatus").is_none() && input.get("TableArn").is_none());
        desc["BillingModeSummary"] = json!({"BillingMode": "PROVISIONED"});
        desc["ProvisionedThroughput"] = json!({"ReadCapacityUnits": 5, "WriteCapacityUnits": 7, "NumberOfDecreasesToday": 0});
        desc["GlobalSecondaryIndexes"] = json!([{"IndexName": "g", "KeySchema": [], "Projection": {"ProjectionType": "ALL"}, "IndexStatus": "ACTIVE", "ProvisionedThroughput": {"ReadCapacityUnits": 2, "WriteCapacityUnits": 3}}]);
        let input = replica_table_input(&desc);
        assert_eq!(input["ProvisionedThroughput"], json!({"ReadCapacityUnits": 5, "WriteCapacityUnits": 7}));
        assert_eq!(
            input["GlobalSecondaryIndexes"][0],
            json!({"IndexName": "g", "KeySchema": [], "Projection": {"ProjectionType": "ALL"}, "ProvisionedThroughput": {"ReadCapacityUnits": 2, "WriteCapacityUnits": 3}})
        );
    }

    #[test]
    fn writes_reach_the_other_regions_after_the_lag_last_writer_wins() {
        static LAG: TestLatency = TestLatency::kind("item-replication", Duration::from_secs(1));
        let at = |t: Instant, ms: u64, region: &'static str| SimEnv {
            region,
            account: "111122223333",
            now: t + Duration::from_millis(ms),
            latency: &LAG,
        };
        let t0 = Instant::now();
        let mut r = Replicas::default();
        r.update_table(&at(t0, 0, "us-east-1"), &create("us-west-2"), &table(Some("NEW_AND_OLD_IMAGES"))).unwrap();
        let key = json!({"pk": {"S": "agent-1"}});
        let item = |state: &str| json!({"pk": {"S": "agent-1"}, "state": {"S": state}});
        // A write in the source reaches the replica after the lag, not before.
        r.record_write(&at(t0, 100, "us-east-1"), "agent-state", &item("ready"), Some(item("ready")));
        assert!(r.take_due(&LAG, t0 + Duration::from_millis(900)).is_empty());
        let due = r.take_due(&LAG, t0 + Duration::from_millis(1100));
        assert_eq!(due.len(), 1);
        assert_eq!((due[0].region.as_str(), &due[0].key, &due[0].item), ("us-west-2", &key, &Some(item("ready"))));
        // Concurrent writes: east at 2.0 s, west at 2.5 s; each region's copy of
        // the other's write arrives later. West's write is the last: both end with it.
        r.record_write(&at(t0, 2000, "us-east-1"), "agent-state", &key, Some(item("busy")));
        r.record_write(&at(t0, 2500, "us-west-2"), "agent-state", &key, Some(item("away")));
        let due = r.take_due(&LAG, t0 + Duration::from_millis(3600));
        assert_eq!(due.len(), 1, "east's older write does not overwrite west's newer one: {due:?}");
        assert_eq!((due[0].region.as_str(), &due[0].item), ("us-east-1", &Some(item("away"))));
        // Deletes travel too; and a write to a table that is not global goes nowhere.
        r.record_write(&at(t0, 4000, "us-west-2"), "agent-state", &key, None);
        r.record_write(&at(t0, 4000, "us-east-1"), "plain-table", &key, Some(item("x")));
        let due = r.take_due(&LAG, t0 + Duration::from_millis(5000));
        assert_eq!(due.iter().map(|w| (w.region.as_str(), w.item.clone())).collect::<Vec<_>>(), vec![("us-east-1", None)]);
        // A region whose replica is deleted gets nothing more.
        let del = json!({"TableName": "agent-state", "ReplicaUpdates": [{"Delete": {"RegionName": "us-west-2"}}]});
        r.record_write(&at(t0, 6000, "us-east-1"), "agent-state", &key, Some(item("late")));
        r.update_table(&at(t0, 6100, "us-east-1"), &del, &table(Some("NEW_AND_OLD_IMAGES"))).unwrap();
        assert!(r.take_due(&LAG, t0 + Duration::from_millis(8000)).is_empty());
    }

    #[test]
    fn describe_right_after_create_is_not_found_for_the_lag() {
        static LAG: TestLatency = TestLatency::not_found("dynamodb", Duration::from_secs(2));
        let t0 = Instant::now();
        let at = |secs: u64, region: &'static str| SimEnv {
            region,
            account: "111122223333",
            now: t0 + Duration::from_secs(secs),
            latency: &LAG,
        };
        let mut r = Replicas::default();
        r.note_created(&at(0, "us-east-1"), "t");
        let input = json!({"TableName": "t"});
        assert!(r.hidden(&at(1, "us-east-1"), &input));
        assert!(!r.hidden(&at(1, "us-west-2"), &input));
        assert!(!r.hidden(&at(1, "us-east-1"), &json!({"TableName": "other"})));
        assert!(!r.hidden(&at(2, "us-east-1"), &input));
        // With the knob off, nothing is hidden.
        let mut r = Replicas::default();
        r.note_created(&env_at(t0, 0), "t");
        assert!(!r.hidden(&env_at(t0, 0), &input));
    }
}
