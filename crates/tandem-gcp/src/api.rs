//! The Compute Engine collections tandem manages, behind one JSON-shaped
//! door: insert / get / patch / update / delete on the typed
//! google-cloud-compute-v1 clients (each collection's calls are its
//! [`crate::collections::Collection`] impl), bodies and answers as the REST
//! JSON the typed models (de)serialize to, and what every collection shares:
//! retries, request ids, NotFound, error classes, and waiting on the
//! Operation every mutation returns.
//!
//! JSON in the middle keeps the kinds small (a kind maps its properties to
//! the API's fields and back) while every call still goes through the
//! official client: its transport, its auth, its error parsing.
//! https://cloud.google.com/compute/docs/reference/rest/v1

pub use crate::collections::Coll;
use crate::collections::{to_json, to_model};
use crate::error::{classify, is_not_found};
use crate::GcpContext;
use google_cloud_compute_v1::model;
use serde_json::Value;
use std::time::Duration;
use tandem_provider::{retry, Ctx, ErrorClass, ProviderError, Result, RetryPolicy};

/// Where one resource lives: `projects/P/global/C/N` or `projects/P/regions/R/C/N`,
/// the id tandem keeps in state (and what `tandem import` takes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    pub project: String,
    pub region: Option<String>,
    pub name: String,
}

impl Path {
    pub fn render(&self, coll: Coll) -> String {
        match &self.region {
            Some(r) => format!("projects/{}/regions/{r}/{}/{}", self.project, coll.segment(), self.name),
            None => format!("projects/{}/global/{}/{}", self.project, coll.segment(), self.name),
        }
    }

    /// Parses an id or a self link (`https://.../compute/v1/projects/...`).
    pub fn parse(coll: Coll, id: &str) -> Result<Path> {
        let tail = id.find("projects/").map(|i| &id[i..]).unwrap_or(id);
        let s: Vec<&str> = tail.split('/').collect();
        let bad = || {
            let shape = if coll.regional() {
                format!("projects/PROJECT/regions/REGION/{}/NAME", coll.segment())
            } else {
                format!("projects/PROJECT/global/{}/NAME", coll.segment())
            };
            ProviderError::invalid(format!("{id:?} is not a {} id; expected {shape}", coll.segment()))
        };
        match s.as_slice() {
            ["projects", p, "global", c, n] if !coll.regional() && *c == coll.segment() => {
                Ok(Path { project: p.to_string(), region: None, name: n.to_string() })
            }
            ["projects", p, "regions", r, c, n] if coll.regional() && *c == coll.segment() => {
                Ok(Path { project: p.to_string(), region: Some(r.to_string()), name: n.to_string() })
            }
            _ => Err(bad()),
        }
    }
}

/// A new request id: Compute Engine runs a mutation once per id, so a retry
/// after a lost answer gets the first attempt's operation instead of a
/// second change (or alreadyExists).
/// https://cloud.google.com/compute/docs/api/how-tos/api-requests-responses#idempotency
fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl GcpContext {
    /// Inserts and waits; answers the finished operation (as the API's JSON).
    pub async fn insert(&self, ctx: &Ctx, coll: Coll, path: &Path, body: Value) -> Result<Value> {
        let what = path.render(coll);
        let rid = request_id();
        let op = retry(ctx, &format!("insert {what}"), RetryPolicy::default(), || {
            let body = body.clone();
            let what = what.clone();
            let rid = rid.clone();
            async move { coll.api().insert(self, path, &what, body, &rid).await?.map_err(|e| classify("insert", &what, e)) }
        })
        .await?;
        self.wait(ctx, path, op).await
    }

    /// The resource as the API's JSON; `None` when it does not exist.
    pub async fn get(&self, ctx: &Ctx, coll: Coll, path: &Path) -> Result<Option<Value>> {
        let what = path.render(coll);
        retry(ctx, &format!("get {what}"), RetryPolicy::default(), || async {
            let r = coll.api().get(self, path).await?;
            match r {
                Ok(v) => Ok(Some(v)),
                Err(e) if is_not_found(&e) => Ok(None),
                Err(e) => Err(classify("get", &what, e)),
            }
        })
        .await
    }

    /// PATCH semantics: only the fields in `body` change. Collections GCP
    /// cannot patch are refused before any call.
    pub async fn patch(&self, ctx: &Ctx, coll: Coll, path: &Path, body: Value) -> Result<()> {
        let what = path.render(coll);
        let rid = request_id();
        let op = retry(ctx, &format!("patch {what}"), RetryPolicy::default(), || self.patch_once(coll, path, body.clone(), &rid)).await?;
        self.wait(ctx, path, op).await.map(drop)
    }

    async fn patch_once(&self, coll: Coll, path: &Path, body: Value, rid: &str) -> Result<model::Operation> {
        let what = path.render(coll);
        coll.api().patch(self, path, &what, body, rid).await?.map_err(|e| classify("patch", &what, e))
    }

    /// Routers only: PUT semantics, the whole router replaced (the way to
    /// empty its interface and peer lists, which PATCH cannot). The v1
    /// Router carries no fingerprint, so callers serialize their
    /// read-modify-write per router ([`GcpContext::router_lock`]).
    /// https://cloud.google.com/compute/docs/reference/rest/v1/routers/update
    pub async fn update_router(&self, ctx: &Ctx, path: &Path, router: Value) -> Result<()> {
        let what = path.render(Coll::Routers);
        let rid = request_id();
        let op = retry(ctx, &format!("update {what}"), RetryPolicy::default(), || {
            let router = router.clone();
            let what = what.clone();
            let rid = rid.clone();
            async move {
                self.routers()
                    .await?
                    .update()
                    .set_project(&path.project)
                    .set_region(path.region.as_deref().unwrap_or_default())
                    .set_router(&path.name)
                    .set_body(to_model::<model::Router>(&what, router)?)
                    .set_request_id(&rid)
                    .send()
                    .await
                    .map_err(|e| classify("update", &what, e))
            }
        })
        .await?;
        self.wait(ctx, path, op).await.map(drop)
    }

    /// Deletes and waits; what is already gone counts as deleted.
    pub async fn delete(&self, ctx: &Ctx, coll: Coll, path: &Path) -> Result<()> {
        let what = path.render(coll);
        let rid = request_id();
        let op = retry(ctx, &format!("delete {what}"), RetryPolicy::default(), || self.delete_once(coll, path, &rid)).await?;
        match op {
            Some(op) => self.wait(ctx, path, op).await.map(drop),
            None => Ok(()),
        }
    }

    async fn delete_once(&self, coll: Coll, path: &Path, rid: &str) -> Result<Option<model::Operation>> {
        let what = path.render(coll);
        let r = coll.api().delete(self, path, rid).await?;
        match r {
            Ok(op) => Ok(Some(op)),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(classify("delete", &what, e)),
        }
    }

    /// Waits for an Operation with globalOperations.wait /
    /// regionOperations.wait (each answers when the operation is DONE or
    /// after about two minutes), then turns an operation error into ours.
    /// https://cloud.google.com/compute/docs/reference/rest/v1/regionOperations/wait
    async fn wait(&self, ctx: &Ctx, path: &Path, mut op: model::Operation) -> Result<Value> {
        let deadline = tokio::time::Instant::now() + ctx.timeout;
        let name = op.name.clone().unwrap_or_default();
        let mut announced = false;
        loop {
            let v = to_json(&op);
            if v["status"] == "DONE" {
                return match v.get("error").and_then(|e| e["errors"].as_array()).and_then(|e| e.first()) {
                    None => Ok(v),
                    Some(first) => {
                        let code = first["code"].as_str().unwrap_or("OPERATION_FAILED").to_string();
                        let message = first["message"].as_str().unwrap_or("the operation failed").to_string();
                        let class =
                            if code.contains("IN_USE") || code.contains("CONFLICT") { ErrorClass::Conflict } else { ErrorClass::Other };
                        Err(ProviderError::new(class, format!("operation {name} failed: {message} ({code})")).with_code(code))
                    }
                };
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(ProviderError::new(
                    ErrorClass::Timeout,
                    format!("operation {name} is still {} after {}s", v["status"].as_str().unwrap_or("running"), ctx.timeout.as_secs()),
                ));
            }
            if !announced {
                ctx.report(format!("waiting for operation {name}"));
                announced = true;
            }
            let wait = async {
                Ok::<_, ProviderError>(match &path.region {
                    Some(r) => {
                        self.region_operations().await?.wait().set_project(&path.project).set_region(r).set_operation(&name).send().await
                    }
                    None => self.global_operations().await?.wait().set_project(&path.project).set_operation(&name).send().await,
                })
            };
            // `wait` holds the call open until the operation ends (up to two
            // minutes): an interrupt must not sit behind it.
            let polled = tokio::select! {
                r = wait => r?,
                () = tandem_provider::interrupted(ctx) => {
                    return Err(ProviderError::new(ErrorClass::Interrupted, format!("operation {name}: interrupted while it was still {}", v["status"].as_str().unwrap_or("running"))));
                }
            };
            match polled {
                Ok(next) => op = next,
                Err(e) => {
                    let e = classify("wait for", &name, e);
                    if !e.is_retryable() {
                        return Err(e);
                    }
                    ctx.report(format!("waiting for operation {name}: {e}"));
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_render_and_parse_both_ways() {
        let p = Path { project: "cc".into(), region: Some("us-east4".into()), name: "r1".into() };
        assert_eq!(p.render(Coll::Routers), "projects/cc/regions/us-east4/routers/r1");
        assert_eq!(Path::parse(Coll::Routers, "projects/cc/regions/us-east4/routers/r1").unwrap(), p);
        assert_eq!(
            Path::parse(Coll::Routers, "https://compute.googleapis.com/compute/v1/projects/cc/regions/us-east4/routers/r1").unwrap(),
            p
        );
        let g = Path::parse(Coll::Networks, "projects/cc/global/networks/n").unwrap();
        assert_eq!((g.region, g.name.as_str()), (None, "n"));
        let e = Path::parse(Coll::Networks, "projects/cc/regions/x/routers/r").unwrap_err();
        assert!(e.message.contains("projects/PROJECT/global/networks/NAME"), "{}", e.message);
        assert!(Path::parse(Coll::VpnTunnels, "nonsense").is_err());
    }
}
