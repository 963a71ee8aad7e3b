//! DynamoDB through the sandbox: global table replicas and item replication
//! (`crate::dynamodb::Replicas`) on top of upstream's tables.

use std::time::Instant;

use bytes::Bytes;
use http::{HeaderMap, Method, Response};
use http_body_util::Full;
use serde_json::Value;

use super::dispatch::env_for;
use super::forward::{forward, upstream_json};
use super::identify::Call;
use super::wire::{body_text, json_like, render_error, with_body};
use super::Shared;
use crate::error::ApiError;

/// DynamoDB: global table replicas (`dynamodb::Replicas`) on top of upstream:
/// replica tables made in the replica regions, item writes replicated between
/// regions, PROVISIONED tables checked for write auto scaling, and the
/// not-found window after CreateTable.
pub(super) async fn dynamodb(
    shared: &Shared,
    call: &Call,
    method: Method,
    uri: http::Uri,
    headers: &HeaderMap,
    body: Bytes,
    input: Value,
) -> Response<Full<Bytes>> {
    // Replicated writes that are due land before anything is served, so every
    // read, in any region, sees what has reached its region by now.
    replicate_due(shared, call, headers).await;
    let op = call.operation.as_str();
    if op == "DescribeTable" {
        let mut st = shared.lock();
        let clock = st.clock();
        let env = env_for(call, &clock);
        if st.dynamodb.hidden(&env, &input) {
            let name = input.get("TableName").and_then(Value::as_str).unwrap_or_default();
            return render_error(
                &call.wire,
                &ApiError::new(400, crate::dynamodb::RESOURCE_NOT_FOUND, format!("Requested resource not found: Table: {name} not found")),
            );
        }
        if let Some(v) = st.dynamodb.describe_in_replica_region(&env, &input) {
            return json_like(call, &v);
        }
    }
    let intercepts = shared.lock().dynamodb.intercepts(op, &input);
    if intercepts {
        return dynamodb_replica_update(shared, call, headers, &input).await;
    }
    if DYNAMODB_WRITES.contains(&op) {
        // One write (and its replication) at a time: a replicated write applied
        // after a newer local one would undo it.
        let _serial = shared.dynamodb_writes.lock().await;
        let resp = forward(shared, call, method, uri, headers, body).await;
        if resp.status().is_success() {
            record_writes(shared, call, headers, &input).await;
        }
        return resp;
    }
    let resp = forward(shared, call, method, uri, headers, body).await;
    let status = resp.status();
    let (resp, bytes) = body_text(resp).await;
    if !status.is_success() {
        return resp;
    }
    let Ok(mut v) = serde_json::from_slice::<Value>(&bytes) else { return resp };
    let name = input.get("TableName").and_then(Value::as_str).unwrap_or_default().to_string();
    let doomed = {
        let mut st = shared.lock();
        let clock = st.clock();
        let env = env_for(call, &clock);
        if op == "CreateTable" {
            st.dynamodb.note_created(&env, &name);
        }
        let doomed = if op == "DeleteTable" { st.dynamodb.replica_regions(&env, &name) } else { Vec::new() };
        st.dynamodb.augment(&env, op, &input, &mut v);
        doomed
    };
    // The source table goes: its replicas' tables go with it.
    for region in doomed {
        upstream_json(
            shared,
            call,
            headers,
            &region,
            "dynamodb",
            "DynamoDB_20120810.DeleteTable",
            &serde_json::json!({ "TableName": name }),
        )
        .await;
    }
    with_body(resp, v.to_string())
}

/// The DynamoDB operations that change items.
const DYNAMODB_WRITES: &[&str] = &["PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"];

/// UpdateTable with ReplicaUpdates: checked against the table as upstream
/// knows it, answered by `dynamodb::Replicas`; a created replica gets its
/// table (and the items) in its region upstream, a deleted one loses it.
async fn dynamodb_replica_update(shared: &Shared, call: &Call, headers: &HeaderMap, input: &Value) -> Response<Full<Bytes>> {
    let name = input.get("TableName").cloned().unwrap_or(Value::Null);
    // The table as upstream knows it; its errors (no such table) are returned as they are.
    let table = match upstream_json(
        shared,
        call,
        headers,
        &call.region,
        "dynamodb",
        "DynamoDB_20120810.DescribeTable",
        &serde_json::json!({ "TableName": name }),
    )
    .await
    {
        Some((200, v)) => v.get("Table").cloned().unwrap_or(Value::Null),
        Some((status, v)) => {
            let code = v.get("__type").and_then(Value::as_str).unwrap_or("InternalServerError");
            let message = v.get("message").or_else(|| v.get("Message")).and_then(Value::as_str).unwrap_or_default();
            return render_error(&call.wire, &ApiError::new(status, code, message));
        }
        None => return render_error(&call.wire, &ApiError::new(502, "BadGateway", "the upstream did not answer DescribeTable")),
    };
    let update = input.get("ReplicaUpdates").and_then(|u| u.get(0)).cloned().unwrap_or(Value::Null);
    let created = update.get("Create").and_then(|c| c.get("RegionName")).and_then(Value::as_str).map(str::to_string);
    let deleted = update.get("Delete").and_then(|c| c.get("RegionName")).and_then(Value::as_str).map(str::to_string);
    let table_name = table.get("TableName").and_then(Value::as_str).unwrap_or_default().to_string();
    let mut scaling = crate::dynamodb::WriteScaling { table: true, indexes: crate::dynamodb::index_names(&table) };
    if let Some(region) = &created {
        if crate::dynamodb::billing_mode(&table) == "PROVISIONED" {
            scaling = write_scaling(shared, call, headers, &table_name, &scaling.indexes).await;
        }
        // A table of that name in the replica region already: DynamoDB refuses.
        // (The table's own region, and a replica of this table, are refused
        // for their own reasons, below.)
        let known = {
            let st = shared.lock();
            let clock = st.clock();
            st.dynamodb.replica_regions(&env_for(call, &clock), &table_name).contains(region)
        };
        if region != &call.region && !known {
            let there = upstream_json(
                shared,
                call,
                headers,
                region,
                "dynamodb",
                "DynamoDB_20120810.DescribeTable",
                &serde_json::json!({ "TableName": table_name }),
            )
            .await;
            if let Some((200, _)) = there {
                return render_error(
                    &call.wire,
                    &ApiError::new(400, crate::dynamodb::VALIDATION, format!("Failed to create a the new replica of table with name: '{table_name}' because one or more replicas already existed as tables.")),
                );
            }
        }
    }
    let answer = {
        let mut st = shared.lock();
        let clock = st.clock();
        let env = env_for(call, &clock);
        st.dynamodb.update_table_scaled(&env, input, &table, &scaling)
    };
    let answer = match answer {
        Ok(v) => v,
        Err(e) => return render_error(&call.wire, &e),
    };
    if let Some(region) = &created {
        let _serial = shared.dynamodb_writes.lock().await;
        upstream_json(
            shared,
            call,
            headers,
            region,
            "dynamodb",
            "DynamoDB_20120810.CreateTable",
            &crate::dynamodb::replica_table_input(&table),
        )
        .await;
        copy_items(shared, call, headers, &table_name, region).await;
    }
    if let Some(region) = &deleted {
        upstream_json(
            shared,
            call,
            headers,
            region,
            "dynamodb",
            "DynamoDB_20120810.DeleteTable",
            &serde_json::json!({ "TableName": table_name }),
        )
        .await;
    }
    json_like(call, &answer)
}

/// Whether Application Auto Scaling (upstream) manages the write capacity of
/// the table and of each of its indexes: a scalable target and a scaling policy.
async fn write_scaling(
    shared: &Shared,
    call: &Call,
    headers: &HeaderMap,
    table: &str,
    indexes: &[String],
) -> crate::dynamodb::WriteScaling {
    let scaled = |resource: String, dimension: &'static str| async move {
        let targets = upstream_json(
            shared,
            call,
            headers,
            &call.region,
            "application-autoscaling",
            "AnyScaleFrontendService.DescribeScalableTargets",
            &serde_json::json!({ "ServiceNamespace": "dynamodb", "ResourceIds": [resource], "ScalableDimension": dimension }),
        )
        .await;
        let policies = upstream_json(
            shared,
            call,
            headers,
            &call.region,
            "application-autoscaling",
            "AnyScaleFrontendService.DescribeScalingPolicies",
            &serde_json::json!({ "ServiceNamespace": "dynamodb", "ResourceId": resource, "ScalableDimension": dimension }),
        )
        .await;
        let some = |r: Option<(u16, Value)>, member: &str| {
            r.is_some_and(|(s, v)| s == 200 && v.get(member).and_then(Value::as_array).is_some_and(|a| !a.is_empty()))
        };
        some(targets, "ScalableTargets") && some(policies, "ScalingPolicies")
    };
    let mut out = crate::dynamodb::WriteScaling {
        table: scaled(format!("table/{table}"), "dynamodb:table:WriteCapacityUnits").await,
        indexes: Vec::new(),
    };
    for i in indexes {
        if scaled(format!("table/{table}/index/{i}"), "dynamodb:index:WriteCapacityUnits").await {
            out.indexes.push(i.clone());
        }
    }
    out
}

/// A new replica starts with the source's items (Scan, page by page).
async fn copy_items(shared: &Shared, call: &Call, headers: &HeaderMap, table: &str, region: &str) {
    let mut start: Option<Value> = None;
    loop {
        let mut scan = serde_json::json!({ "TableName": table, "ConsistentRead": true });
        if let Some(k) = start.take() {
            scan["ExclusiveStartKey"] = k;
        }
        let Some((200, page)) = upstream_json(shared, call, headers, &call.region, "dynamodb", "DynamoDB_20120810.Scan", &scan).await
        else {
            return;
        };
        for item in page.get("Items").and_then(Value::as_array).into_iter().flatten() {
            upstream_json(
                shared,
                call,
                headers,
                region,
                "dynamodb",
                "DynamoDB_20120810.PutItem",
                &serde_json::json!({ "TableName": table, "Item": item }),
            )
            .await;
        }
        match page.get("LastEvaluatedKey").filter(|k| k.is_object()) {
            Some(k) => start = Some(k.clone()),
            None => return,
        }
    }
}

/// After a successful item write: what it changed, queued for the global
/// table's other regions. Puts and deletes carry their own image; updates are
/// read back (consistently) in the region they were made.
async fn record_writes(shared: &Shared, call: &Call, headers: &HeaderMap, input: &Value) {
    // (table, key or item, item after: Some for puts, None for deletes; updates read back)
    enum Change {
        Put(String, Value),
        Delete(String, Value),
        Update(String, Value),
    }
    let mut changes = Vec::new();
    let table_of = |v: &Value| v.get("TableName").and_then(Value::as_str).unwrap_or_default().to_string();
    match call.operation.as_str() {
        "PutItem" => changes.push(Change::Put(table_of(input), input.get("Item").cloned().unwrap_or(Value::Null))),
        "DeleteItem" => changes.push(Change::Delete(table_of(input), input.get("Key").cloned().unwrap_or(Value::Null))),
        "UpdateItem" => changes.push(Change::Update(table_of(input), input.get("Key").cloned().unwrap_or(Value::Null))),
        "BatchWriteItem" => {
            for (table, reqs) in input.get("RequestItems").and_then(Value::as_object).into_iter().flatten() {
                for r in reqs.as_array().into_iter().flatten() {
                    if let Some(item) = r.get("PutRequest").and_then(|p| p.get("Item")) {
                        changes.push(Change::Put(table.clone(), item.clone()));
                    } else if let Some(key) = r.get("DeleteRequest").and_then(|d| d.get("Key")) {
                        changes.push(Change::Delete(table.clone(), key.clone()));
                    }
                }
            }
        }
        _ => {
            for t in input.get("TransactItems").and_then(Value::as_array).into_iter().flatten() {
                if let Some(p) = t.get("Put") {
                    changes.push(Change::Put(table_of(p), p.get("Item").cloned().unwrap_or(Value::Null)));
                } else if let Some(d) = t.get("Delete") {
                    changes.push(Change::Delete(table_of(d), d.get("Key").cloned().unwrap_or(Value::Null)));
                } else if let Some(u) = t.get("Update") {
                    changes.push(Change::Update(table_of(u), u.get("Key").cloned().unwrap_or(Value::Null)));
                }
            }
        }
    }
    for c in changes {
        let (table, key, item) = match c {
            Change::Put(t, item) => (t, item.clone(), Some(item)),
            Change::Delete(t, key) => (t, key, None),
            Change::Update(t, key) => {
                // Not a global table: no need to read the item back. (Only the
                // clock's `now` matters to the lookup, so any latency model does.)
                if shared.lock().dynamodb.key_names(&env_for(call, &crate::env::Instant0), &t).is_none() {
                    continue;
                }
                let read = upstream_json(
                    shared,
                    call,
                    headers,
                    &call.region,
                    "dynamodb",
                    "DynamoDB_20120810.GetItem",
                    &serde_json::json!({ "TableName": t, "Key": key, "ConsistentRead": true }),
                )
                .await;
                let item = read.and_then(|(s, v)| (s == 200).then(|| v.get("Item").cloned()).flatten());
                (t, key, item)
            }
        };
        let mut st = shared.lock();
        let clock = st.clock();
        let env = env_for(call, &clock);
        st.dynamodb.record_write(&env, &table, &key, item);
    }
}

/// Applies the replicated writes that are due, in their regions upstream.
async fn replicate_due(shared: &Shared, call: &Call, headers: &HeaderMap) {
    let _serial = shared.dynamodb_writes.lock().await;
    let due = {
        let mut st = shared.lock();
        let clock = st.clock();
        st.dynamodb.take_due(&clock, Instant::now())
    };
    for w in due {
        let (target, body) = match &w.item {
            Some(item) => ("DynamoDB_20120810.PutItem", serde_json::json!({ "TableName": w.table, "Item": item })),
            None => ("DynamoDB_20120810.DeleteItem", serde_json::json!({ "TableName": w.table, "Key": w.key })),
        };
        upstream_json(shared, call, headers, &w.region, "dynamodb", target, &body).await;
    }
}
