//! A state that changes with time and is computed when read: `before` until
//! `at`, `after` from then on. Records keep one instead of being updated by
//! a timer, so a read at any instant sees the state the cloud would show.

use std::time::{Duration, Instant};

/// `after` is usually a state name; `Option<&str>` when the record is gone
/// (`None`) once the change is done.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Phase<A = &'static str> {
    pub before: &'static str,
    pub after: A,
    pub at: Instant,
}

impl<A: Copy + From<&'static str>> Phase<A> {
    pub fn new(before: &'static str, after: A, at: Instant) -> Self {
        Phase { before, after, at }
    }

    /// A state that no longer changes.
    pub fn fixed(state: &'static str, now: Instant) -> Self {
        Phase { before: state, after: A::from(state), at: now }
    }

    pub fn state(&self, now: Instant) -> A {
        if now >= self.at {
            self.after
        } else {
            A::from(self.before)
        }
    }
}

impl Phase {
    /// Whether the record reached one of the `terminal` states at least
    /// `retention` ago (AWS lists deleted records for a while, then drops them).
    pub fn expired(&self, now: Instant, terminal: &[&str], retention: Duration) -> bool {
        terminal.contains(&self.after) && now >= self.at + retention
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_turns_at_its_instant() {
        let t = Instant::now();
        let p = Phase::new("pending", "available", t + Duration::from_secs(1));
        assert_eq!((p.state(t), p.state(t + Duration::from_secs(1))), ("pending", "available"));
        let gone: Phase<Option<&str>> = Phase::new("DELETING", None, t);
        assert_eq!(gone.state(t), None);
        assert_eq!(Phase::<Option<&str>>::fixed("ACTIVE", t).state(t), Some("ACTIVE"));
        let deleted = Phase::new("deleting", "deleted", t);
        assert!(!deleted.expired(t, &["deleted"], Duration::from_secs(5)));
        assert!(deleted.expired(t + Duration::from_secs(5), &["deleted"], Duration::from_secs(5)));
        assert!(!deleted.expired(t + Duration::from_secs(5), &["rejected"], Duration::from_secs(5)));
    }
}
