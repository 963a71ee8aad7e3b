//! Agent-state sync: Amazon Connect agent events, as an instance's agent
//! event stream delivers them to Kinesis, written to the agent-state
//! DynamoDB global table as each agent's current state.
//!
//! The event format is Connect's agent event stream
//! (https://docs.aws.amazon.com/connect/latest/adminguide/agent-event-stream-model.html):
//! `AgentARN`, `EventId`, `EventTimestamp` (ISO 8601), `EventType`
//! (STATE_CHANGE, HEART_BEAT, LOGIN, LOGOUT), `CurrentAgentSnapshot` with
//! `AgentStatus.Name` and `Configuration.Username`.
//!
//! Writes are conditional on the event's time: an item is replaced only by a
//! newer event (`attribute_not_exists(agent_id) OR event_ms < :ms`), so
//! re-delivered batches (Lambda retries a failed Kinesis batch), late events
//! and the two regions' consumers can never put an older state over a newer
//! one. The global table replicates the item to the other region.

use base64::Engine as _;
use serde_json::Value;

/// One agent's state, as the table keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentState {
    /// The user id (the last part of the agent's ARN): the table's key.
    pub agent_id: String,
    pub username: Option<String>,
    /// The agent status name (Available, Offline, ...); Offline after LOGOUT.
    pub status: String,
    pub event_type: String,
    pub event_id: String,
    pub event_time: String,
    pub event_ms: i64,
    pub instance_arn: Option<String>,
}

/// Why a record is not an agent event this function can apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip(pub String);

/// Milliseconds since the epoch of an ISO 8601 UTC time (`2019-05-25T18:43:59.049Z`).
pub fn epoch_ms(iso: &str) -> Option<i64> {
    let s = iso.strip_suffix('Z').or_else(|| iso.strip_suffix("+00:00"))?;
    let (date, time) = s.split_once('T')?;
    let mut d = date.split('-').map(|x| x.parse::<i64>());
    let (y, m, day) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
    let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
    let mut t = hms.split(':').map(|x| x.parse::<i64>());
    let (hh, mm, ss) = (t.next()?.ok()?, t.next()?.ok()?, t.next()?.ok()?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let ms: i64 = format!("{:0<3}", &frac[..frac.len().min(3)]).parse().ok()?;
    // Days from civil (Howard Hinnant).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400 + hh * 3600 + mm * 60 + ss) * 1000) + ms)
}

/// An agent event (the JSON a Kinesis record carries) -> the state to keep.
pub fn parse(event: &Value) -> Result<AgentState, Skip> {
    let arn = event.get("AgentARN").and_then(Value::as_str).ok_or_else(|| Skip("no AgentARN".into()))?;
    let agent_id = arn.rsplit('/').next().filter(|s| !s.is_empty()).ok_or_else(|| Skip(format!("{arn} is not an agent ARN")))?;
    let event_type = event.get("EventType").and_then(Value::as_str).ok_or_else(|| Skip("no EventType".into()))?;
    let event_time = event.get("EventTimestamp").and_then(Value::as_str).ok_or_else(|| Skip("no EventTimestamp".into()))?;
    let event_ms = epoch_ms(event_time).ok_or_else(|| Skip(format!("EventTimestamp {event_time} is not an ISO 8601 UTC time")))?;
    let snapshot = event.get("CurrentAgentSnapshot");
    let status = match event_type {
        "LOGOUT" => "Offline".to_string(),
        _ => snapshot
            .and_then(|s| s.pointer("/AgentStatus/Name"))
            .and_then(Value::as_str)
            .ok_or_else(|| Skip(format!("{event_type} without CurrentAgentSnapshot.AgentStatus.Name")))?
            .to_string(),
    };
    Ok(AgentState {
        agent_id: agent_id.to_string(),
        username: snapshot.and_then(|s| s.pointer("/Configuration/Username")).and_then(Value::as_str).map(str::to_string),
        status,
        event_type: event_type.to_string(),
        event_id: event.get("EventId").and_then(Value::as_str).unwrap_or_default().to_string(),
        event_time: event_time.to_string(),
        event_ms,
        instance_arn: event.get("InstanceARN").and_then(Value::as_str).map(str::to_string),
    })
}

/// The Kinesis records of a Lambda event, decoded: (eventID, JSON) or why not.
pub fn records(event: &Value) -> Vec<(String, Result<Value, Skip>)> {
    event
        .get("Records")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|r| {
            let id = r.get("eventID").and_then(Value::as_str).unwrap_or_default().to_string();
            let data = r.pointer("/kinesis/data").and_then(Value::as_str).ok_or_else(|| Skip("no kinesis.data".into()));
            let json = data
                .and_then(|d| base64::engine::general_purpose::STANDARD.decode(d).map_err(|e| Skip(format!("data is not base64: {e}"))))
                .and_then(|b| serde_json::from_slice(&b).map_err(|e| Skip(format!("data is not JSON: {e}"))));
            (id, json)
        })
        .collect()
}

/// What a batch did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub written: usize,
    /// Older than (or the same as) what the table holds: left alone.
    pub stale: usize,
    pub skipped: Vec<String>,
}

/// Writes each agent's state, newest event wins. A DynamoDB error (not a
/// failed condition) fails the batch, which Lambda then retries.
pub async fn apply(db: &aws_sdk_dynamodb::Client, table: &str, region: &str, event: &Value) -> Result<Outcome, String> {
    use aws_sdk_dynamodb::types::AttributeValue as A;
    let mut out = Outcome::default();
    for (id, rec) in records(event) {
        let state = match rec.and_then(|v| parse(&v)) {
            Ok(s) => s,
            Err(Skip(why)) => {
                tracing::warn!("record {id} skipped: {why}");
                out.skipped.push(format!("{id}: {why}"));
                continue;
            }
        };
        let mut put = db
            .put_item()
            .table_name(table)
            .item("agent_id", A::S(state.agent_id.clone()))
            .item("status", A::S(state.status.clone()))
            .item("event_type", A::S(state.event_type.clone()))
            .item("event_id", A::S(state.event_id.clone()))
            .item("event_time", A::S(state.event_time.clone()))
            .item("event_ms", A::N(state.event_ms.to_string()))
            .item("written_in", A::S(region.to_string()))
            .condition_expression("attribute_not_exists(agent_id) OR event_ms < :ms")
            .expression_attribute_values(":ms", A::N(state.event_ms.to_string()));
        if let Some(u) = &state.username {
            put = put.item("username", A::S(u.clone()));
        }
        if let Some(i) = &state.instance_arn {
            put = put.item("instance_arn", A::S(i.clone()));
        }
        match put.send().await {
            Ok(_) => out.written += 1,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => out.stale += 1,
            Err(e) => {
                return Err(format!("PutItem {} for {}: {}", table, state.agent_id, aws_sdk_dynamodb::error::DisplayErrorContext(&e)))
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn times() {
        assert_eq!(epoch_ms("1970-01-01T00:00:00.000Z"), Some(0));
        assert_eq!(epoch_ms("2019-05-25T18:43:59.049Z"), Some(1_558_809_839_049));
        assert_eq!(epoch_ms("2019-05-25T18:43:59Z"), Some(1_558_809_839_000));
        assert_eq!(epoch_ms("2019-05-25 18:43:59"), None);
        assert_eq!(epoch_ms("2019-13-25T18:43:59Z"), None);
    }

    #[test]
    fn events() {
        let e = json!({ "AgentARN": "arn:aws:connect:us-east-1:1:instance/i/agent/a1", "EventType": "STATE_CHANGE", "EventId": "e1",
            "EventTimestamp": "2026-11-30T10:00:00.500Z", "CurrentAgentSnapshot": { "AgentStatus": { "Name": "Available" }, "Configuration": { "Username": "alice" } } });
        let s = parse(&e).unwrap();
        assert_eq!((s.agent_id.as_str(), s.status.as_str(), s.username.as_deref()), ("a1", "Available", Some("alice")));
        let out = json!({ "AgentARN": "arn:aws:connect:us-east-1:1:instance/i/agent/a1", "EventType": "LOGOUT", "EventTimestamp": "2026-11-30T10:00:01Z" });
        assert_eq!(parse(&out).unwrap().status, "Offline");
        assert!(parse(&json!({ "EventType": "LOGIN" })).is_err());
        let recs = records(
            &json!({ "Records": [{ "eventID": "s:1", "kinesis": { "data": base64::engine::general_purpose::STANDARD.encode(e.to_string()) } }, { "eventID": "s:2", "kinesis": { "data": "%%%" } }] }),
        );
        assert!(recs[0].1.is_ok() && recs[1].1.is_err());
    }
}
