//! The kind-authoring toolkit: the few steps nearly every kind takes, once.
//!
//! A kind's verbs are mostly the same shape: send a create, wait until the
//! cloud says the object is usable, read it back; send a delete and wait
//! until reads say it is gone; turn a NotFound into "absent". Written out in
//! each kind these drifted apart (three names for NotFound-is-None, ids
//! taken from create answers as `""` when missing). docs/engine.md ("Adding a kind") has
//! the recipe that uses them.

use crate::{wait_until, Ctx, ErrorClass, Observed, ProviderError, Result, WaitOutcome, Waiter};
use std::future::Future;

/// A NotFound becomes `Ok(None)`: gone (or, right after a create, not
/// visible yet); any other error stays an error.
pub fn gone_is_none<T>(r: Result<T>) -> Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.class == ErrorClass::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The id a create (or claim) answer carries. An answer without one is an
/// error naming the kind and the call: an empty id stored in the state
/// would match nothing on the next read, and the next apply would make a
/// second object.
pub fn required_id(kind: &str, call: &str, id: Option<&str>) -> Result<String> {
    match id {
        Some(id) if !id.is_empty() => Ok(id.to_string()),
        _ => Err(ProviderError::new(
            ErrorClass::Other,
            format!(
                "{call} answered without an id for {kind}; nothing was recorded. Check in the console whether it was made, then import it or re-run apply"
            ),
        )),
    }
}

/// The error for a change a kind cannot make in place (`field` of `what`,
/// e.g. "instance i-1"). The plan only asks for in-place updates of fields
/// the schema does not mark `force_new`, so this means the schema and the
/// kind disagree, or the cloud has no call for it.
pub fn refuse_update(what: &str, field: &str) -> ProviderError {
    ProviderError::invalid(format!("{field} of {what} cannot be changed in place"))
}

/// Refuse unless every changed field is one the kind can change in place.
pub fn only_in_place(what: &str, changed: &[String], in_place: &[&str]) -> Result<()> {
    match changed.iter().find(|f| !in_place.contains(&f.as_str())) {
        Some(f) => Err(refuse_update(what, f)),
        None => Ok(()),
    }
}

/// Send a create, then poll until the cloud says the object is usable.
/// `create` answers the new object's id; `poll` gets that id each time.
/// When the wait fails (terminal state, timeout, interrupt) the error
/// carries the id as its `partial`, so the state keeps the object as
/// tainted instead of losing track of it.
pub async fn create_and_wait<T, C, F, Fut>(ctx: &Ctx, what: &str, create: C, mut poll: F) -> Result<(String, T)>
where
    C: Future<Output = Result<String>>,
    F: FnMut(String) -> Fut,
    Fut: Future<Output = Result<WaitOutcome<T>>>,
{
    let id = create.await?;
    match wait_until(ctx, what, Waiter::default(), || poll(id.clone())).await {
        Ok(v) => Ok((id, v)),
        Err(e) => Err(e.with_partial(Observed { id, ..Default::default() })),
    }
}

/// Send a delete, then read until the object is gone. What is already gone
/// (the delete answers NotFound) is deleted. `status` answers the state the
/// cloud reports while the object still exists (`DELETING`), or `None` (or
/// a NotFound error) once it is gone.
pub async fn delete_and_wait<T, D, F, Fut>(ctx: &Ctx, what: &str, delete: D, mut status: F) -> Result<()>
where
    D: Future<Output = Result<T>>,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<String>>>,
{
    if gone_is_none(delete.await)?.is_none() {
        return Ok(());
    }
    wait_until(ctx, what, Waiter::default(), || {
        let seen = status();
        async move {
            Ok(match gone_is_none(seen.await)?.flatten() {
                None => WaitOutcome::Ready(()),
                Some(state) => WaitOutcome::Pending(state),
            })
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    #[test]
    fn not_found_is_none_other_errors_stay() {
        assert_eq!(gone_is_none(Ok::<_, ProviderError>(3)).unwrap(), Some(3));
        assert_eq!(gone_is_none::<u8>(Err(ProviderError::not_found("gone"))).unwrap(), None);
        assert_eq!(gone_is_none::<u8>(Err(ProviderError::invalid("bad"))).unwrap_err().class, ErrorClass::Invalid);
    }

    #[test]
    fn a_create_answer_without_an_id_is_an_error_naming_kind_and_call() {
        assert_eq!(required_id("aws.connect.instance", "CreateInstance", Some("i-1")).unwrap(), "i-1");
        for missing in [None, Some("")] {
            let e = required_id("aws.connect.instance", "CreateInstance", missing).unwrap_err();
            assert_eq!(e.class, ErrorClass::Other);
            assert!(e.message.starts_with("CreateInstance answered without an id for aws.connect.instance"), "{}", e.message);
        }
    }

    #[test]
    fn refusals_name_the_field() {
        assert!(only_in_place("queue q", &["name".into(), "tags".into()], &["name", "tags"]).is_ok());
        let e = only_in_place("queue q", &["name".into(), "hours".into()], &["name"]).unwrap_err();
        assert_eq!(e.class, ErrorClass::Invalid);
        assert_eq!(e.message, "hours of queue q cannot be changed in place");
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_wait_keeps_the_new_id_as_partial() {
        let ctx = Ctx::quiet("x", None);
        let (id, v) =
            create_and_wait(
                &ctx,
                "stream",
                async { Ok("s-1".to_string()) },
                |id| async move { Ok(WaitOutcome::Ready(format!("{id} ACTIVE"))) },
            )
            .await
            .unwrap();
        assert_eq!((id.as_str(), v.as_str()), ("s-1", "s-1 ACTIVE"));
        let e = create_and_wait::<(), _, _, _>(&ctx, "stream", async { Ok("s-2".to_string()) }, |_| async {
            Ok(WaitOutcome::Failed("CREATION_FAILED".into()))
        })
        .await
        .unwrap_err();
        assert_eq!(e.partial.map(|p| p.id).as_deref(), Some("s-2"));
        // A refused create made nothing: no partial.
        let e = create_and_wait::<(), _, _, _>(&ctx, "stream", async { Err(ProviderError::invalid("bad")) }, |_| async {
            Ok(WaitOutcome::Ready(()))
        })
        .await
        .unwrap_err();
        assert!(e.partial.is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn delete_waits_until_reads_say_gone() {
        let ctx = Ctx::quiet("x", None);
        let reads = Arc::new(AtomicU32::new(0));
        let r = reads.clone();
        delete_and_wait(&ctx, "table deletion", async { Ok(()) }, move || {
            let n = r.fetch_add(1, Ordering::SeqCst);
            async move {
                match n {
                    0 | 1 => Ok(Some("DELETING".to_string())),
                    2 => Ok(None),
                    _ => Err(ProviderError::not_found("gone")),
                }
            }
        })
        .await
        .unwrap();
        assert_eq!(reads.load(Ordering::SeqCst), 3);
        // Already gone: no read at all.
        let before = reads.load(Ordering::SeqCst);
        let r = reads.clone();
        delete_and_wait(&ctx, "table deletion", async { Err::<(), _>(ProviderError::not_found("no such table")) }, move || {
            r.fetch_add(1, Ordering::SeqCst);
            async { Ok(Some("ACTIVE".to_string())) }
        })
        .await
        .unwrap();
        assert_eq!(reads.load(Ordering::SeqCst), before);
        // A NotFound from the status read is gone too; other errors stop.
        delete_and_wait(&ctx, "x", async { Ok(()) }, || async { Err(ProviderError::not_found("gone")) }).await.unwrap();
        let e = delete_and_wait(&ctx, "x", async { Ok(()) }, || async { Err(ProviderError::invalid("bad")) }).await.unwrap_err();
        assert_eq!(e.class, ErrorClass::Invalid);
    }
}
