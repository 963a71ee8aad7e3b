//! The admin API under `/_tandem/` (JSON in, JSON out): latency model,
//! faults and region outages, call accounting, seeding, reset.
//!
//! | method | path | body / answer |
//! |---|---|---|
//! | GET | /_tandem/health | `{"service":"tandem-sim","upstream":...}` |
//! | POST | /_tandem/reset | everything back to empty |
//! | GET, PUT | /_tandem/latency | `LatencyConfig` |
//! | GET, PUT | /_tandem/consistency | `{"rules":[{"service":"connect","not_found_ms":N}]}`: reads of a resource answer NotFound for N ms after its create |
//! | GET, PUT | /_tandem/delays | `{"delays":[ResponseDelay]}`: slow answers per service / operation / region |
//! | GET | /_tandem/faults | `{"rules":[FaultRule],"outages":[Outage]}` |
//! | POST | /_tandem/faults | `FaultRule` -> `{"id":N}` |
//! | DELETE | /_tandem/faults, /_tandem/faults/{id} | all rules and outages, or one rule |
//! | PUT | /_tandem/outages | `Outage` |
//! | DELETE | /_tandem/outages, /_tandem/outages/{region} | |
//! | GET, DELETE | /_tandem/calls | `{"calls":[CallCount]}` / reset |
//! | POST | /_tandem/seed/hosted-connections | `{"region":.., <DX seed input>}` -> the connection |
//! | GET | /_tandem/connect/agents | `{"groups":[{"Id","Arn","IsDefault","AgentConfig","Agents":[{"UserId","Username","Region"}]}]}`: where each group's associated agents work under its AgentConfig |
//! | PUT | /_tandem/connect/replication-failure | `{"region":R,"reason":..}`: the next ReplicateInstance into R fails (INSTANCE_REPLICATION_FAILED with the reason) |
//! | GET | /_tandem/lambda/invocations?function=F&region=R | `{"invocations":[{request_id,function,region,source,status,error,response,logs,...}]}` (newest last) |
//! | GET | /_tandem/lambda/event-source-mappings | every mapping, with `Delivered` and `FailedInvocations` |
//! | GET, PUT | /_tandem/schedules | `{"time_scale":60}`: the schedules' clock runs that many times as fast; GET adds the followed rules |
//! | POST | /_tandem/seed/phone-numbers | `{"region":..,"numbers":[{"PhoneNumber":..,"PhoneNumberCountryCode":..,"PhoneNumberType":..}]}` |

use bytes::Bytes;
use http::{Method, Response};
use http_body_util::Full;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use crate::connect::AvailableNumber;
use crate::faults::{FaultRule, Outage};
use crate::latency::LatencyConfig;
use crate::server::{json_response, Shared, SimState};

/// An admin error: HTTP status and JSON body.
type Failure = (u16, Value);

fn bad(msg: impl std::fmt::Display) -> Failure {
    (400, json!({ "error": msg.to_string() }))
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, Failure> {
    serde_json::from_slice(body).map_err(|e| bad(format!("invalid admin request body: {e}")))
}

pub(crate) fn handle(shared: &Shared, method: &Method, path: &str, query: &str, body: &[u8]) -> Response<Full<Bytes>> {
    if let Some(v) = lambda_route(shared, method, path, query, body) {
        return match v {
            Ok(v) => json_response(200, &v),
            Err((status, body)) => json_response(status, &body),
        };
    }
    match route(shared, method, path, body) {
        Ok(v) => json_response(200, &v),
        Err((status, body)) => json_response(status, &body),
    }
}

/// Lambda's admin views: invocations, schedules and their clock, mappings.
fn lambda_route(shared: &Shared, method: &Method, path: &str, query: &str, body: &[u8]) -> Option<Result<Value, Failure>> {
    let segs: Vec<&str> = path.trim_start_matches("/_tandem").trim_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    let q: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    Some(match (method.as_str(), segs.as_slice()) {
        ("GET", ["lambda", "invocations"]) => {
            Ok(json!({ "invocations": shared.lambda.records(get("function").as_deref(), get("region").as_deref()) }))
        }
        ("GET", ["lambda", "event-source-mappings"]) => {
            let maps = shared.lambda.mappings.lock().unwrap_or_else(|e| e.into_inner());
            let list: Vec<Value> = maps
                .values()
                .map(|m| {
                    let mut v = m.describe();
                    v["Delivered"] = json!(m.delivered);
                    v["FailedInvocations"] = json!(m.failed_invocations);
                    v
                })
                .collect();
            Ok(json!({ "mappings": list }))
        }
        ("GET", ["schedules"]) => {
            let s = shared.lambda.schedules.lock().unwrap_or_else(|e| e.into_inner());
            Ok(json!({ "time_scale": s.time_scale, "clock": s.clock(), "rules": s.rules.values().collect::<Vec<_>>() }))
        }
        ("PUT", ["schedules"]) => {
            #[derive(serde::Deserialize)]
            struct Scale {
                time_scale: f64,
            }
            match parse::<Scale>(body) {
                Ok(sc) if sc.time_scale.is_finite() && sc.time_scale > 0.0 => {
                    let mut s = shared.lambda.schedules.lock().unwrap_or_else(|e| e.into_inner());
                    s.set_scale(sc.time_scale);
                    Ok(json!({ "time_scale": s.time_scale }))
                }
                Ok(_) => Err(bad("time_scale must be a number above 0")),
                Err(e) => Err(e),
            }
        }
        _ => return None,
    })
}

fn route(shared: &Shared, method: &Method, path: &str, body: &[u8]) -> Result<Value, Failure> {
    let segs: Vec<&str> = path.trim_start_matches("/_tandem").trim_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    let mut st = shared.lock();
    match (method.as_str(), segs.as_slice()) {
        ("GET", ["health"]) => Ok(json!({ "service": "tandem-sim", "upstream": shared.upstream.as_ref().map(|u| u.base.clone()) })),
        ("POST", ["reset"]) => {
            *st = SimState::default();
            shared.lambda.reset();
            Ok(json!({}))
        }
        ("GET", ["latency"]) => Ok(serde_json::to_value(&st.latency).unwrap_or_default()),
        ("PUT", ["latency"]) => {
            st.latency = parse::<LatencyConfig>(body)?;
            Ok(serde_json::to_value(&st.latency).unwrap_or_default())
        }
        ("GET", ["consistency"]) => Ok(json!({ "rules": st.consistency })),
        ("PUT", ["consistency"]) => {
            #[derive(serde::Deserialize)]
            struct Rules {
                rules: Vec<crate::latency::ConsistencyRule>,
            }
            st.consistency = parse::<Rules>(body)?.rules;
            Ok(json!({ "rules": st.consistency }))
        }
        ("GET", ["delays"]) => Ok(json!({ "delays": st.delays })),
        ("PUT", ["delays"]) => {
            #[derive(serde::Deserialize)]
            struct Delays {
                delays: Vec<crate::latency::ResponseDelay>,
            }
            st.delays = parse::<Delays>(body)?.delays;
            Ok(json!({ "delays": st.delays }))
        }
        ("GET", ["faults"]) => Ok(json!({ "rules": st.faults.rules, "outages": st.faults.outages })),
        ("POST", ["faults"]) => {
            let rule: FaultRule = parse(body)?;
            if rule.probability.is_some_and(|p| !(0.0..=1.0).contains(&p)) {
                return Err(bad("probability must be between 0 and 1"));
            }
            Ok(json!({ "id": st.faults.add(rule) }))
        }
        ("DELETE", ["faults"]) => {
            st.faults = Default::default();
            Ok(json!({}))
        }
        ("DELETE", ["faults", id]) => {
            let id: u64 = id.parse().map_err(|_| bad("fault id must be a number"))?;
            if st.faults.remove(id) {
                Ok(json!({}))
            } else {
                Err((404, json!({ "error": format!("no fault rule {id}") })))
            }
        }
        ("PUT", ["outages"]) => {
            let o: Outage = parse(body)?;
            st.faults.set_outage(o);
            Ok(json!({ "outages": st.faults.outages }))
        }
        ("DELETE", ["outages"]) => {
            st.faults.outages.clear();
            Ok(json!({}))
        }
        ("DELETE", ["outages", region]) => {
            st.faults.clear_outage(region);
            Ok(json!({ "outages": st.faults.outages }))
        }
        ("GET", ["calls"]) => Ok(json!({ "calls": st.accounting.snapshot() })),
        ("DELETE", ["calls"]) => {
            st.accounting.reset();
            Ok(json!({}))
        }
        ("GET", ["connect", "agents"]) => {
            let now = std::time::Instant::now();
            st.connect.settle(now);
            Ok(st.connect.agent_regions())
        }
        ("PUT", ["connect", "replication-failure"]) => {
            #[derive(serde::Deserialize)]
            struct Failure {
                region: String,
                reason: String,
            }
            let f: Failure = parse(body)?;
            st.connect.replication_failures.insert(f.region.clone(), f.reason.clone());
            Ok(json!({ "region": f.region, "reason": f.reason }))
        }
        ("POST", ["seed", "phone-numbers"]) => {
            #[derive(serde::Deserialize)]
            struct Seed {
                region: String,
                numbers: Vec<AvailableNumber>,
            }
            let seed: Seed = parse(body)?;
            let n = seed.numbers.len();
            st.connect.seed_numbers(&seed.region, seed.numbers);
            Ok(json!({ "seeded": n }))
        }
        ("POST", ["seed", "hosted-connections"]) => {
            let mut input: serde_json::Value = parse(body)?;
            let region = input.get("region").and_then(|r| r.as_str()).unwrap_or(crate::server::DEFAULT_REGION).to_string();
            if let Some(o) = input.as_object_mut() {
                o.remove("region");
            }
            let latency = st.latency.clone();
            let model = crate::latency::Model { latency: &latency, consistency: &[] };
            let env =
                crate::env::SimEnv { region: &region, account: crate::server::ACCOUNT_ID, now: std::time::Instant::now(), latency: &model };
            st.directconnect.seed_hosted_connection(&env, &input).map_err(|e| (e.status, json!({ "error": e.message, "code": e.code })))
        }
        _ => Err((404, json!({ "error": format!("no admin route {method} {path}") }))),
    }
}
