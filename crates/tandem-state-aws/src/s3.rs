//! The state as one S3 object, written with conditional requests, and its
//! lock as a second object created only if absent.
//!
//! S3 conditional writes (S3 API Reference, PutObject, `If-Match` /
//! `If-None-Match`; S3 User Guide, "conditional-requests"): a PUT with
//! `If-None-Match: *` fails with 412 PreconditionFailed when the key exists;
//! with `If-Match: ETAG` it fails with 412 when the current ETag differs and
//! 404 NoSuchKey when there is no object; two conditional writes racing may
//! give 409 ConditionalRequestConflict to the loser. DeleteObject takes
//! `If-Match` too (User Guide, "conditional-deletes"). So two writers can
//! never both win, and a lock is released only by the holder that made it
//! (or by `force-unlock` naming it).

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use std::sync::Mutex;
use tandem_state::{Attempt, Backend, LockInfo, StateError};

/// Where the state lives in S3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Config {
    pub bucket: String,
    pub key: String,
    pub region: String,
    /// The lock object's key; `<key>.lock` when absent.
    pub lock_key: Option<String>,
    /// An S3 endpoint other than AWS's (`AWS_ENDPOINT_URL_S3` also works).
    pub endpoint: Option<String>,
    /// `https://host/bucket/key` instead of `https://bucket.host/key`.
    pub use_path_style: bool,
}

pub struct S3Backend {
    client: aws_sdk_s3::Client,
    cfg: S3Config,
    lock_key: String,
    /// The ETag of the version last read or written (`Some(None)`: read as absent).
    seen: Mutex<Option<Option<String>>>,
}

fn status<E>(e: &SdkError<E>) -> Option<u16> {
    e.raw_response().map(|r| r.status().as_u16())
}

fn describe<E: ProvideErrorMetadata + std::fmt::Debug>(e: &SdkError<E>) -> String {
    match (e.code(), e.message()) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (Some(c), None) => c.to_string(),
        _ => match e {
            SdkError::DispatchFailure(d) => format!("cannot reach S3 ({d:?})"),
            SdkError::TimeoutError(_) => "S3 did not answer in time".into(),
            other => format!("{other:?}"),
        },
    }
}

impl S3Backend {
    pub async fn new(cfg: S3Config) -> S3Backend {
        let sdk = crate::sdk_config(&cfg.region, cfg.endpoint.as_deref()).await;
        let conf = aws_sdk_s3::config::Builder::from(&sdk).force_path_style(cfg.use_path_style).build();
        let lock_key = cfg.lock_key.clone().unwrap_or_else(|| format!("{}.lock", cfg.key));
        S3Backend { client: aws_sdk_s3::Client::from_conf(conf), cfg, lock_key, seen: Mutex::new(None) }
    }

    pub fn client(&self) -> &aws_sdk_s3::Client {
        &self.client
    }

    /// Whether the bucket keeps earlier versions (a history of the state).
    pub async fn versioning_enabled(&self) -> Result<bool, StateError> {
        let v = self
            .client
            .get_bucket_versioning()
            .bucket(&self.cfg.bucket)
            .send()
            .await
            .map_err(|e| StateError::Read { at: self.location(), detail: self.explain(&describe(&e)) })?;
        Ok(matches!(v.status(), Some(aws_sdk_s3::types::BucketVersioningStatus::Enabled)))
    }

    fn explain(&self, detail: &str) -> String {
        if detail.starts_with("NoSuchBucket") {
            format!(
                "{detail} (create the bucket `{}` in {}, with versioning on, before using it as a backend)",
                self.cfg.bucket, self.cfg.region
            )
        } else if detail.starts_with("AccessDenied") {
            format!(
                "{detail} (the credentials need s3:GetObject, s3:PutObject and s3:DeleteObject on arn:aws:s3:::{}/{}*)",
                self.cfg.bucket, self.cfg.key
            )
        } else {
            detail.to_string()
        }
    }

    async fn get(&self, key: &str) -> Result<Option<(Vec<u8>, Option<String>)>, String> {
        match self.client.get_object().bucket(&self.cfg.bucket).key(key).send().await {
            Ok(o) => {
                let etag = o.e_tag().map(str::to_string);
                let body = o.body.collect().await.map_err(|e| format!("reading the object body: {e}"))?;
                Ok(Some((body.into_bytes().to_vec(), etag)))
            }
            Err(e) if status(&e) == Some(404) || e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => Err(self.explain(&describe(&e))),
        }
    }

    async fn holder(&self) -> Result<Option<(LockInfo, Option<String>)>, StateError> {
        let got = self
            .get(&self.lock_key)
            .await
            .map_err(|detail| StateError::Lock(format!("cannot read the lock {}: {detail}", self.lock_location())))?;
        Ok(got.map(|(bytes, etag)| {
            let info = serde_json::from_slice::<LockInfo>(&bytes).unwrap_or_else(|_| LockInfo {
                id: String::new(),
                operation: "?".into(),
                who: String::new(),
                host: "an unknown host".into(),
                pid: 0,
                version: String::new(),
                created: "an unknown time".into(),
            });
            (info, etag)
        }))
    }

    fn lock_location(&self) -> String {
        format!("s3://{}/{}", self.cfg.bucket, self.lock_key)
    }

    async fn delete_lock(&self, etag: Option<String>) -> Result<(), String> {
        let mut req = self.client.delete_object().bucket(&self.cfg.bucket).key(&self.lock_key);
        if let Some(etag) = etag {
            // Only the lock we looked at: a newer holder's lock stays.
            req = req.if_match(etag);
        }
        match req.send().await {
            Ok(_) => Ok(()),
            Err(e) if status(&e) == Some(404) => Ok(()),
            Err(e) => Err(describe(&e)),
        }
    }
}

#[async_trait::async_trait]
impl Backend for S3Backend {
    fn location(&self) -> String {
        format!("s3://{}/{}", self.cfg.bucket, self.cfg.key)
    }
    fn remote(&self) -> bool {
        true
    }
    fn restore_hint(&self) -> String {
        format!(
            "Restore an earlier version of s3://{}/{} (a versioned bucket keeps them: `aws s3api list-object-versions --bucket {} --prefix {}`), then `tandem state push` it",
            self.cfg.bucket, self.cfg.key, self.cfg.bucket, self.cfg.key
        )
    }

    async fn read(&self) -> Result<Option<Vec<u8>>, StateError> {
        let got = self.get(&self.cfg.key).await.map_err(|detail| StateError::Read { at: self.location(), detail })?;
        let (bytes, etag) = match got {
            Some((b, e)) => (Some(b), e),
            None => (None, None),
        };
        *self.seen.lock().expect("not poisoned") = Some(bytes.as_ref().map(|_| etag.unwrap_or_default()));
        Ok(bytes)
    }

    async fn write(&self, bytes: Vec<u8>) -> Result<(), StateError> {
        let expected = self.seen.lock().expect("not poisoned").clone().flatten();
        let mut req = self
            .client
            .put_object()
            .bucket(&self.cfg.bucket)
            .key(&self.cfg.key)
            .content_type("application/json")
            .body(ByteStream::from(bytes));
        req = match &expected {
            Some(etag) => req.if_match(etag),
            None => req.if_none_match("*"),
        };
        match req.send().await {
            Ok(out) => {
                *self.seen.lock().expect("not poisoned") = Some(Some(out.e_tag().unwrap_or_default().to_string()));
                Ok(())
            }
            Err(e) => {
                let conflict = match status(&e) {
                    Some(412) => Some(match &expected {
                        Some(etag) => format!("its ETag is no longer {etag}: another writer replaced it"),
                        None => "another writer created it first".to_string(),
                    }),
                    Some(409) => Some("another conditional write to it was in progress (ConditionalRequestConflict)".into()),
                    Some(404) => Some("it was deleted".into()),
                    _ => None,
                };
                match conflict {
                    Some(detail) => Err(StateError::Conflict { at: self.location(), detail }),
                    None => Err(StateError::Write { at: self.location(), detail: self.explain(&describe(&e)) }),
                }
            }
        }
    }

    async fn try_lock(&self, info: &LockInfo) -> Result<Attempt, StateError> {
        let body = serde_json::to_vec_pretty(info).expect("lock info serializes");
        let put = self
            .client
            .put_object()
            .bucket(&self.cfg.bucket)
            .key(&self.lock_key)
            .content_type("application/json")
            .if_none_match("*")
            .body(ByteStream::from(body))
            .send()
            .await;
        match put {
            Ok(_) => Ok(Attempt::Taken),
            // 412: someone holds it; 409: someone was taking it at the same moment.
            Err(e) if matches!(status(&e), Some(412) | Some(409)) => Ok(Attempt::Held(self.holder().await?.map(|(i, _)| i))),
            Err(e) => Err(StateError::Lock(format!("cannot take the lock {}: {}", self.lock_location(), self.explain(&describe(&e))))),
        }
    }

    async fn unlock(&self, info: &LockInfo) -> Result<(), StateError> {
        match self.holder().await? {
            Some((held, etag)) if held.id == info.id => self.delete_lock(etag).await.map_err(|d| {
                StateError::Lock(format!(
                    "cannot release the lock {} (lock ID {}): {d}; release it with `tandem force-unlock {}`",
                    self.lock_location(),
                    info.id,
                    info.id
                ))
            }),
            Some((held, _)) => Err(StateError::Lock(format!(
                "the lock {} is no longer ours: {} holds it now (someone forced ours open); left it alone",
                self.lock_location(),
                held.describe()
            ))),
            None => Ok(()),
        }
    }

    async fn force_unlock(&self, id: &str) -> Result<LockInfo, StateError> {
        match self.holder().await? {
            Some((held, etag)) if held.id == id => {
                self.delete_lock(etag)
                    .await
                    .map_err(|d| StateError::Lock(format!("cannot remove the lock {}: {d}", self.lock_location())))?;
                Ok(held)
            }
            Some((held, _)) => Err(StateError::Lock(format!(
                "the lock {} has ID {}, not {id}: it is held by {}; nothing was unlocked",
                self.lock_location(),
                held.id,
                held.describe()
            ))),
            None => Err(StateError::Lock(format!("the state {} is not locked; nothing to unlock", self.location()))),
        }
    }
}
