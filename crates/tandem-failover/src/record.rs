//! The conditional record of the last decision, shared by both controllers.
//!
//! Stored where both regions can write it with a condition (a DynamoDB global
//! table item written with `attribute_not_exists(pk) OR version = :expected`,
//! or an S3 object written with `If-None-Match: *` / `If-Match: <etag>`).
//! This module is the pure model of that write: [`compare_and_set`] succeeds
//! only when the stored version is the one the writer read. A controller that
//! gets a [`Conflict`] re-reads the record, takes its distribution as
//! `current` and its `decided_at` as the last shift time, and decides again.

use crate::decide::History;
use crate::distribution::Distribution;
use crate::policy::Policy;
use serde::{Deserialize, Serialize};

/// The last decision that moved traffic (the agreed intent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionRecord {
    /// 1 for the first record, +1 on every write.
    pub version: u64,
    pub distribution: Distribution,
    /// Unix seconds, by the writer's clock.
    pub decided_at: u64,
    /// The region of the controller that wrote it.
    pub by_region: String,
}

impl DecisionRecord {
    /// The distribution decisions start from: the record's, or the policy's
    /// default when nothing was ever recorded.
    pub fn current(stored: Option<&DecisionRecord>, policy: &Policy) -> Distribution {
        stored.map_or_else(|| policy.default_distribution.clone(), |r| r.distribution.clone())
    }

    /// `history` with its last shift time taken from the stored record.
    pub fn sync(stored: Option<&DecisionRecord>, history: History) -> History {
        history.with_last_shift(stored.map(|r| r.decided_at))
    }
}

/// The record changed since the writer read it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the decision record changed since it was read (expected {}, found {}); read it again and decide again", version_text(*.expected), version_text(*.found))]
pub struct Conflict {
    /// The version the writer read (`None`: it saw no record).
    pub expected: Option<u64>,
    /// The version actually stored (`None`: there is none).
    pub found: Option<u64>,
}

fn version_text(v: Option<u64>) -> String {
    v.map_or_else(|| "no record".to_string(), |v| format!("version {v}"))
}

/// Writes `new` over `stored` if and only if `stored`'s version is
/// `expected_version` (`None` = "there must be no record yet"). Returns the
/// record to store, with the next version.
pub fn compare_and_set(
    stored: Option<&DecisionRecord>,
    expected_version: Option<u64>,
    new: Distribution,
    decided_at: u64,
    by_region: &str,
) -> Result<DecisionRecord, Conflict> {
    let found = stored.map(|r| r.version);
    if found != expected_version {
        return Err(Conflict { expected: expected_version, found });
    }
    Ok(DecisionRecord {
        version: found.map_or(1, |v| v.saturating_add(1)),
        distribution: new,
        decided_at,
        by_region: by_region.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = "us-east-1";
    const S: &str = "us-west-2";

    fn rec(version: u64) -> DecisionRecord {
        DecisionRecord { version, distribution: Distribution::split(P, 50, S), decided_at: 100, by_region: P.into() }
    }

    #[test]
    fn compare_and_set_table() {
        let to_s = Distribution::all_to(S, P);
        // (name, stored, expected version, new version or conflict)
        type Row = (&'static str, Option<DecisionRecord>, Option<u64>, Result<u64, Conflict>);
        let rows: Vec<Row> = vec![
            ("first write, none stored", None, None, Ok(1)),
            ("first write, but one appeared", Some(rec(1)), None, Err(Conflict { expected: None, found: Some(1) })),
            ("matching version", Some(rec(4)), Some(4), Ok(5)),
            ("stale version", Some(rec(5)), Some(4), Err(Conflict { expected: Some(4), found: Some(5) })),
            ("expects a record that is gone", None, Some(4), Err(Conflict { expected: Some(4), found: None })),
        ];
        for (name, stored, expected, want) in rows {
            let got = compare_and_set(stored.as_ref(), expected, to_s.clone(), 200, S);
            match (got, want) {
                (Ok(r), Ok(v)) => {
                    assert_eq!(r.version, v, "row: {name}");
                    assert_eq!(r.distribution, to_s, "row: {name}");
                    assert_eq!(r.decided_at, 200, "row: {name}");
                    assert_eq!(r.by_region, S, "row: {name}");
                }
                (Err(c), Err(w)) => assert_eq!(c, w, "row: {name}"),
                (got, want) => panic!("row: {name}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn conflict_message_says_what_to_do() {
        let c = Conflict { expected: Some(4), found: Some(5) };
        assert_eq!(
            c.to_string(),
            "the decision record changed since it was read (expected version 4, found version 5); read it again and decide again"
        );
        let c = Conflict { expected: None, found: Some(1) };
        assert_eq!(
            c.to_string(),
            "the decision record changed since it was read (expected no record, found version 1); read it again and decide again"
        );
    }

    #[test]
    fn current_and_sync_come_from_the_record() {
        let policy = Policy::new(P, S);
        assert_eq!(DecisionRecord::current(None, &policy), policy.default_distribution);
        let mut r = rec(3);
        r.distribution = Distribution::all_to(P, S);
        assert_eq!(DecisionRecord::current(Some(&r), &policy), r.distribution);
        assert_eq!(DecisionRecord::sync(Some(&r), History::default()).last_shift_at, Some(100));
        assert_eq!(DecisionRecord::sync(None, History::default()).last_shift_at, None);
    }

    #[test]
    fn record_round_trips_as_json() {
        let r = rec(7);
        let back: DecisionRecord = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
    }
}
