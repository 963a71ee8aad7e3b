//! A small typed client for the sandbox's admin API (`/_tandem/...`).

use anyhow::{bail, Context};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use crate::accounting::{self, CallCount};
use crate::connect::AvailableNumber;
use crate::faults::{FaultRule, Outage, OutageMode};
use crate::latency::LatencyConfig;
use crate::upstream::{http_client, HttpClient};

#[derive(Clone)]
pub struct SandboxClient {
    base: String,
    http: HttpClient,
}

impl SandboxClient {
    /// `url`: the sandbox base URL, e.g. `Sandbox::url()`.
    pub fn new(url: impl Into<String>) -> Self {
        SandboxClient { base: url.into().trim_end_matches('/').to_string(), http: http_client() }
    }

    async fn call<T: DeserializeOwned>(&self, method: &str, path: &str, body: Option<Value>) -> anyhow::Result<T> {
        let req = http::Request::builder()
            .method(method)
            .uri(format!("{}/_tandem/{path}", self.base))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.map(|b| b.to_string()).unwrap_or_default())))?;
        let resp = self.http.request(req).await.with_context(|| format!("{method} /_tandem/{path}"))?;
        let status = resp.status();
        let bytes = resp.into_body().collect().await?.to_bytes();
        if !status.is_success() {
            bail!("{method} /_tandem/{path}: {status}: {}", String::from_utf8_lossy(&bytes));
        }
        serde_json::from_slice(&bytes).with_context(|| format!("{method} /_tandem/{path}: answer is not the expected JSON"))
    }

    pub async fn health(&self) -> anyhow::Result<Value> {
        self.call("GET", "health", None).await
    }
    /// Everything back to empty: resources, faults, outages, latency, counts, seeds.
    pub async fn reset(&self) -> anyhow::Result<()> {
        self.call::<Value>("POST", "reset", None).await.map(|_| ())
    }
    pub async fn latency(&self) -> anyhow::Result<LatencyConfig> {
        self.call("GET", "latency", None).await
    }
    pub async fn set_latency(&self, cfg: &LatencyConfig) -> anyhow::Result<()> {
        self.call::<Value>("PUT", "latency", Some(serde_json::to_value(cfg)?)).await.map(|_| ())
    }
    /// Reads of a resource of each rule's service answer NotFound for
    /// `not_found_ms` after its create (eventual consistency); empty: off.
    pub async fn set_consistency(&self, rules: &[crate::latency::ConsistencyRule]) -> anyhow::Result<()> {
        self.call::<Value>("PUT", "consistency", Some(json!({ "rules": rules }))).await.map(|_| ())
    }
    /// Replaces the response delays (slow answers per service / operation / region).
    pub async fn set_delays(&self, delays: &[crate::latency::ResponseDelay]) -> anyhow::Result<()> {
        self.call::<Value>("PUT", "delays", Some(json!({ "delays": delays }))).await.map(|_| ())
    }
    /// Adds a fault rule; returns its id.
    pub async fn add_fault(&self, rule: &FaultRule) -> anyhow::Result<u64> {
        let v: Value = self.call("POST", "faults", Some(serde_json::to_value(rule)?)).await?;
        v["id"].as_u64().context("fault id missing")
    }
    pub async fn faults(&self) -> anyhow::Result<Vec<FaultRule>> {
        let v: Value = self.call("GET", "faults", None).await?;
        Ok(serde_json::from_value(v["rules"].clone())?)
    }
    pub async fn remove_fault(&self, id: u64) -> anyhow::Result<()> {
        self.call::<Value>("DELETE", &format!("faults/{id}"), None).await.map(|_| ())
    }
    /// Removes every fault rule and outage.
    pub async fn clear_faults(&self) -> anyhow::Result<()> {
        self.call::<Value>("DELETE", "faults", None).await.map(|_| ())
    }
    /// Every call to `service` in `region` fails (`Error`) or is dropped (`Unreachable`).
    pub async fn set_outage(&self, region: &str, service: &str, mode: OutageMode) -> anyhow::Result<()> {
        let o = Outage { region: region.into(), service: service.into(), mode };
        self.call::<Value>("PUT", "outages", Some(serde_json::to_value(o)?)).await.map(|_| ())
    }
    pub async fn clear_outage(&self, region: &str) -> anyhow::Result<()> {
        self.call::<Value>("DELETE", &format!("outages/{region}"), None).await.map(|_| ())
    }
    pub async fn calls(&self) -> anyhow::Result<Vec<CallCount>> {
        let v: Value = self.call("GET", "calls", None).await?;
        Ok(serde_json::from_value(v["calls"].clone())?)
    }
    /// Sum of the call counts matching the filters (`None` matches all).
    pub async fn count(&self, service: Option<&str>, operation: Option<&str>, region: Option<&str>) -> anyhow::Result<u64> {
        Ok(accounting::total(&self.calls().await?, service, operation, region))
    }
    pub async fn reset_calls(&self) -> anyhow::Result<()> {
        self.call::<Value>("DELETE", "calls", None).await.map(|_| ())
    }
    /// Makes these numbers what SearchAvailablePhoneNumbers offers in `region`.
    pub async fn seed_phone_numbers(&self, region: &str, numbers: &[AvailableNumber]) -> anyhow::Result<()> {
        self.call::<Value>("POST", "seed/phone-numbers", Some(json!({ "region": region, "numbers": numbers }))).await.map(|_| ())
    }
    /// The Lambda invocations the sandbox ran (of `function` when given), oldest first.
    pub async fn lambda_invocations(&self, function: Option<&str>) -> anyhow::Result<Vec<Value>> {
        let path = match function {
            Some(f) => format!("lambda/invocations?function={f}"),
            None => "lambda/invocations".into(),
        };
        let v: Value = self.call("GET", &path, None).await?;
        Ok(v["invocations"].as_array().cloned().unwrap_or_default())
    }
    /// The event source mappings, with what each delivered.
    pub async fn event_source_mappings(&self) -> anyhow::Result<Vec<Value>> {
        let v: Value = self.call("GET", "lambda/event-source-mappings", None).await?;
        Ok(v["mappings"].as_array().cloned().unwrap_or_default())
    }
    /// The followed EventBridge rules and the schedules' clock.
    pub async fn schedules(&self) -> anyhow::Result<Value> {
        self.call("GET", "schedules", None).await
    }
    /// Runs the schedules' clock `scale` times as fast (60: a minute a second).
    pub async fn set_time_scale(&self, scale: f64) -> anyhow::Result<()> {
        self.call::<Value>("PUT", "schedules", Some(json!({ "time_scale": scale }))).await.map(|_| ())
    }
    /// Where each traffic distribution group's associated agents work now
    /// (the admin view `GET /_tandem/connect/agents`).
    pub async fn connect_agents(&self) -> anyhow::Result<Value> {
        self.call("GET", "connect/agents", None).await
    }
    /// Where each agent associated with the group `group_arn` works now: user id -> region.
    pub async fn agent_regions(&self, group_arn: &str) -> anyhow::Result<std::collections::BTreeMap<String, String>> {
        let view = self.connect_agents().await?;
        let group = view["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|g| g["Arn"] == group_arn)
            .with_context(|| format!("the sandbox has no traffic distribution group {group_arn}"))?;
        Ok(group["Agents"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| (a["UserId"].as_str().unwrap_or_default().to_string(), a["Region"].as_str().unwrap_or_default().to_string()))
            .collect())
    }
    /// The next ReplicateInstance into `region` fails with `reason`.
    pub async fn fail_next_replication(&self, region: &str, reason: &str) -> anyhow::Result<()> {
        self.call::<Value>("PUT", "connect/replication-failure", Some(json!({ "region": region, "reason": reason }))).await.map(|_| ())
    }
    /// Seeds a hosted Direct Connect connection (as a partner would provision it).
    pub async fn seed_hosted_connection(&self, region: &str, input: &Value) -> anyhow::Result<Value> {
        let mut body = input.clone();
        body["region"] = json!(region);
        self.call("POST", "seed/hosted-connections", Some(body)).await
    }
}
