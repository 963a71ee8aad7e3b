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
//! Replica regions: moto has no table in the replica region, so a
//! DescribeTable there gets ResourceNotFoundException upstream. The server may
//! answer it instead with [`Replicas::describe_in_replica_region`], which
//! synthesizes the replica's description from the source table's last known
//! description. Data-plane calls (PutItem, ...) in a replica region are not
//! served.

use std::collections::HashMap;
use std::time::Instant;

use serde_json::{json, Value};

use crate::env::SimEnv;
use crate::error::ApiError;

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

/// `before` until `at`, then `after` (`None`: the replica is gone).
#[derive(Debug, Clone, Copy)]
struct Phase {
    before: &'static str,
    after: Option<&'static str>,
    at: Instant,
}

impl Phase {
    fn state(&self, now: Instant) -> Option<&'static str> {
        if now >= self.at {
            self.after
        } else {
            Some(self.before)
        }
    }
}

#[derive(Debug, Clone)]
struct Replica {
    region: String,
    kms_key: Option<String>,
    phase: Phase,
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
        table
            .replicas
            .iter()
            .map(|r| (r.region.clone(), r.phase.state(now).unwrap_or("ACTIVE"), r.kms_key.clone()))
            .collect()
    }

    /// Answers an intercepted UpdateTable. `table_description` is upstream's
    /// DescribeTable `Table` for the table (the server fetches it first; a
    /// missing table is upstream's ResourceNotFoundException, which the server
    /// returns as is).
    pub fn update_table(&mut self, env: &SimEnv, input: &Value, table_description: &Value) -> Result<Value, ApiError> {
        let name = table_name(input).ok_or_else(|| validation("1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null"))?;
        if let Some(other) = OTHER_UPDATES.iter().find(|k| input.get(**k).is_some_and(|v| !v.is_null())) {
            // UpdateTable: "You can only perform one of the following operations at once".
            return Err(validation(format!("ReplicaUpdates cannot be combined with {other} in one UpdateTable request")));
        }
        let updates = input.get("ReplicaUpdates").and_then(Value::as_array).ok_or_else(|| validation("ReplicaUpdates must be a list"))?;
        if updates.len() != 1 {
            return Err(validation("Only one replica update (Create, Update or Delete) is allowed per UpdateTable request"));
        }
        let update = &updates[0];
        let actions: Vec<(&str, &Value)> = ["Create", "Update", "Delete"]
            .iter()
            .filter_map(|k| update.get(*k).filter(|v| !v.is_null()).map(|v| (*k, v)))
            .collect();
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
                table.replicas.push(Replica {
                    region: region.to_string(),
                    kms_key: body.get("KMSMasterKeyId").and_then(Value::as_str).map(str::to_string),
                    phase: Phase { before: "CREATING", after: Some("ACTIVE"), at: env.ready_at(SERVICE, "replica") },
                });
            }
            "Update" => {
                let i = existing.ok_or_else(|| validation(format!("Update global table operation failed because replica {region} does not exist for table {name}")))?;
                let r = &mut table.replicas[i];
                if let Some(k) = body.get("KMSMasterKeyId").and_then(Value::as_str) {
                    r.kms_key = Some(k.to_string());
                }
                r.phase = Phase { before: "UPDATING", after: Some("ACTIVE"), at: env.ready_at(SERVICE, "replica") };
            }
            _ => {
                let i = existing.ok_or_else(|| validation(format!("Replica {region} cannot be deleted because it does not exist for table {name}")))?;
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
    use crate::env::LatencyModel;
    use std::time::Duration;

    struct Fixed(Duration);
    impl LatencyModel for Fixed {
        fn creation(&self, _: &str, _: &str, _: &str) -> Duration {
            self.0
        }
        fn deletion(&self, _: &str, _: &str, _: &str) -> Duration {
            self.0
        }
    }
    static LAT: Fixed = Fixed(Duration::from_secs(10));

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
        assert_eq!(td["Replicas"], json!([{"RegionName": "us-west-2", "ReplicaStatus": "CREATING", "ReplicaArn": "arn:aws:dynamodb:us-west-2:111122223333:table/agent-state"}]));
        assert_eq!(td["KeySchema"], desc["KeySchema"]);

        let mut resp = json!({"Table": desc.clone()});
        r.augment(&env_at(t0, 5), "DescribeTable", &json!({"TableName": "agent-state"}), &mut resp);
        assert_eq!(resp["Table"]["TableStatus"], "UPDATING");
        assert_eq!(resp["Table"]["Replicas"][0]["ReplicaStatus"], "CREATING");

        // One replica change at a time.
        let e = r.update_table(&env_at(t0, 5), &create("eu-west-2"), &desc).unwrap_err();
        assert_eq!(e.code, RESOURCE_IN_USE);

        let mut resp = json!({"Table": desc.clone()});
        r.augment(&env_at(t0, 10), "DescribeTable", &json!({"TableName": "arn:aws:dynamodb:us-east-1:111122223333:table/agent-state"}), &mut resp);
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
        assert_eq!(d["Table"]["Replicas"], json!([{"RegionName": "us-east-1", "ReplicaStatus": "ACTIVE", "ReplicaArn": "arn:aws:dynamodb:us-east-1:111122223333:table/agent-state"}]));
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
}
