//! Whole-controller tests: flapping, two controllers, the race on the record.

use super::*;
use std::time::Duration;

const P: &str = "us-east-1";
const S: &str = "us-west-2";

fn policy() -> Policy {
    Policy::new(P, S)
}

/// A small deterministic generator (no rand dependency needed).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// An hour of checks at the probe interval: `f(i)` gives check i.
fn hour(policy: &Policy, f: impl Fn(usize) -> (bool, bool)) -> Vec<(bool, bool)> {
    let checks = (3600 / policy.probe_interval.as_secs()) as usize;
    (0..checks).map(f).collect()
}

fn shift_times(decisions: &[Decision], policy: &Policy) -> Vec<u64> {
    decisions.iter().enumerate().filter(|(_, d)| d.is_shift()).map(|(i, _)| i as u64 * policy.probe_interval.as_secs()).collect()
}

/// The most shifts inside any window of length min_dwell.
fn max_shifts_per_window(times: &[u64], policy: &Policy) -> usize {
    let dwell = policy.min_dwell.as_secs();
    times.iter().map(|&start| times.iter().filter(|&&t| t >= start && t < start + dwell).count()).max().unwrap_or(0)
}

#[test]
fn flapping_signals_shift_at_most_once_per_dwell_window() {
    let p = policy();
    type Pattern = fn(usize) -> (bool, bool);
    let patterns: Vec<(&str, Pattern)> = vec![
        ("primary alternates every check", |i| (i % 2 == 0, true)),
        ("regions alternate out of phase", |i| (i % 2 == 0, i % 2 == 1)),
        ("primary down N, up M, repeat", |i| (i % 8 >= 3, true)),
        ("primary down N, up 1, repeat", |i| (i % 4 == 3, true)),
        ("regions take turns failing N", |i| {
            let down_p = i % 6 < 3;
            (!down_p, down_p)
        }),
        ("regions take turns failing N+M", |i| {
            let down_p = i % 16 < 8;
            (!down_p || i % 8 >= 3, down_p || i % 8 >= 3)
        }),
    ];
    let mut any_shift = false;
    for (name, f) in patterns {
        let signal = hour(&p, f);
        assert_eq!(signal.len(), 60, "{name}");
        let decisions = simulate(&signal, &p);
        let times = shift_times(&decisions, &p);
        let per_window = max_shifts_per_window(&times, &p);
        assert!(per_window <= 1, "{name}: {per_window} shifts in one {}s window (shifts at {times:?})", p.min_dwell.as_secs());
        assert!(times.len() <= 6, "{name}: {} shifts in an hour", times.len());
        any_shift |= !times.is_empty();
    }
    assert!(any_shift, "the patterns must exercise shifting at all");
}

#[test]
fn flapping_counts_with_and_without_dwell() {
    // Primary: down 3 checks, up 5 checks, over and over; secondary healthy.
    let p = policy();
    let signal = hour(&p, |i| (i % 8 >= 3, true));

    let with_dwell = shift_times(&simulate(&signal, &p), &p);
    // First failover at t=120s; the return waits for the dwell (M reached at
    // 420s, allowed at 720s, next M streak completes at 900s); the next
    // failure inside that window only raises an alert.
    assert_eq!(with_dwell.first(), Some(&120));
    assert_eq!(with_dwell.get(1), Some(&900));
    assert!(with_dwell.windows(2).all(|w| w[1] - w[0] >= 600), "{with_dwell:?}");
    assert_eq!(max_shifts_per_window(&with_dwell, &p), 1);

    let mut no_dwell = p.clone();
    no_dwell.min_dwell = Duration::ZERO;
    let without = shift_times(&simulate(&signal, &no_dwell), &no_dwell);
    // Without the dwell every burst is a failover and every streak a return.
    assert_eq!(without.len(), 15, "{without:?}");
    assert!(max_shifts_per_window(&without, &p) > 1);
    assert!(with_dwell.len() < without.len());
}

#[test]
fn random_flapping_never_beats_the_dwell() {
    let p = policy();
    for seed in 1..=50u64 {
        for fail_percent in [10, 30, 50, 70] {
            let mut rng = Lcg(seed);
            let signal: Vec<(bool, bool)> = (0..240).map(|_| (!rng.chance(fail_percent), !rng.chance(fail_percent))).collect();
            let times = shift_times(&simulate(&signal, &p), &p);
            assert!(max_shifts_per_window(&times, &p) <= 1, "seed {seed}, {fail_percent}% failures: shifts at {times:?}");
        }
    }
}

#[test]
fn simulate_steady_signals() {
    let p = policy();
    let healthy = simulate(&[(true, true); 30], &p);
    assert!(healthy.iter().all(|d| *d == Decision::Hold(HoldReason::AtTarget)));

    let both_down = simulate(&[(false, false); 10], &p);
    assert!(both_down.iter().all(|d| !d.is_shift()));
    assert!(matches!(both_down[2], Decision::Alert(AlertReason::BothDown { .. })));

    let primary_down = simulate(&[(false, true); 10], &p);
    assert_eq!(primary_down.iter().filter(|d| d.is_shift()).count(), 1, "one shift, then holds at target");
    assert!(primary_down[2].is_shift());
}

fn probe(up: bool, alarm_state: StateValue) -> Probe {
    Probe {
        instance_status: Some(if up { InstanceStatus::Active } else { InstanceStatus::CreationFailed }),
        api_reachable: true,
        alarms: vec![AlarmState { name: "ToInstancePacketLossRate".into(), state: alarm_state, severity: Severity::Critical }],
    }
}

#[test]
fn two_controllers_fed_the_same_observations_decide_the_same() {
    let p = policy();
    let mut rng = Lcg(7);
    let states = [StateValue::Ok, StateValue::Alarm, StateValue::InsufficientData];
    let probes: Vec<(Probe, Probe)> = (0..300)
        .map(|_| {
            let a = probe(!rng.chance(20), states[(rng.next() % 3) as usize]);
            let b = probe(!rng.chance(20), states[(rng.next() % 3) as usize]);
            (a, b)
        })
        .collect();

    // Each controller keeps its own history; the east one is restarted from
    // its serialized history every check (a Lambda that keeps no memory).
    let mut east = History::default();
    let mut west_json = serde_json::to_string(&History::default()).unwrap();
    let mut current = p.default_distribution.clone();
    let mut shifts = 0;
    for (i, (pp, sp)) in probes.iter().enumerate() {
        let now = 1_800_000_000 + 60 * i as u64;
        east = observe(&east, &assess(pp), &assess(sp));
        let west: History = serde_json::from_str(&west_json).unwrap();
        let west = observe(&west, &pp.assess(), &sp.assess());
        let a = decide(&east, &current, &p, now);
        let b = decide(&west, &current, &p, now);
        assert_eq!(a, b, "check {i}");
        if let Decision::Shift { to, .. } = &a {
            current = to.clone();
            shifts += 1;
            east.last_shift_at = Some(now);
        }
        let west = west.with_last_shift(east.last_shift_at);
        west_json = serde_json::to_string(&west).unwrap();
    }
    assert!(shifts > 0, "the signal must make them shift");
}

/// One controller's read-decide step against a snapshot of the record.
fn read_and_decide(history: &History, stored: Option<&DecisionRecord>, policy: &Policy, now: u64) -> (Decision, Option<u64>) {
    let current = DecisionRecord::current(stored, policy);
    let history = DecisionRecord::sync(stored, history.clone());
    (decide(&history, &current, policy, now), stored.map(|r| r.version))
}

#[test]
fn two_controllers_racing_on_the_record_one_wins_the_loser_holds() {
    let p = policy();
    let start = DecisionRecord { version: 1, distribution: p.default_distribution.clone(), decided_at: 1_000, by_region: P.into() };
    let now = 10_000;
    let down = RegionHealth::Unhealthy(vec![Finding::ApiUnreachable]);
    let up = RegionHealth::Healthy;
    let seen = (0..3).fold(History::default(), |h, _| observe(&h, &down, &up));

    for east_first in [true, false] {
        let mut stored = Some(start.clone());
        // Both read version 1 and decide before either writes.
        let (d_east, v_east) = read_and_decide(&seen, stored.as_ref(), &p, now);
        let (d_west, v_west) = read_and_decide(&seen, stored.as_ref(), &p, now);
        assert_eq!(d_east, d_west);
        let Decision::Shift { to, .. } = d_east else {
            panic!("expected both to want a shift, got {d_east}");
        };
        let order = if east_first { [(P, v_east), (S, v_west)] } else { [(S, v_west), (P, v_east)] };
        let mut wins = 0;
        let mut winner = "";
        for (region, expected) in order {
            match compare_and_set(stored.as_ref(), expected, to.clone(), now, region) {
                Ok(r) => {
                    wins += 1;
                    winner = region;
                    stored = Some(r);
                }
                Err(conflict) => {
                    assert_eq!(conflict, Conflict { expected: Some(1), found: Some(2) });
                    // The loser re-reads and re-decides: nothing left to do.
                    let (again, _) = read_and_decide(&seen, stored.as_ref(), &p, now);
                    assert_eq!(again, Decision::Hold(HoldReason::AtTarget));
                }
            }
        }
        assert_eq!(wins, 1, "exactly one write wins");
        let r = stored.unwrap();
        assert_eq!((r.version, r.by_region.as_str()), (2, winner));
        assert_eq!(r.distribution, Distribution::all_to(S, P));
    }
}

#[test]
fn controllers_that_disagree_do_not_undo_each_other() {
    // A partition: east sees west down, west sees east down.
    let p = policy();
    let down = RegionHealth::Unhealthy(vec![Finding::ApiUnreachable]);
    let up = RegionHealth::Healthy;
    let east_view = (0..3).fold(History::default(), |h, _| observe(&h, &up, &down));
    let west_view = (0..3).fold(History::default(), |h, _| observe(&h, &down, &up));
    let now = 10_000;

    let (d_east, v_east) = read_and_decide(&east_view, None, &p, now);
    let (d_west, v_west) = read_and_decide(&west_view, None, &p, now);
    let (Decision::Shift { to: to_east, .. }, Decision::Shift { to: to_west, .. }) = (&d_east, &d_west) else {
        panic!("both should want a shift: {d_east} / {d_west}");
    };
    assert_ne!(to_east, to_west);
    let stored = compare_and_set(None, v_east, to_east.clone(), now, P).unwrap();
    let lost = compare_and_set(Some(&stored), v_west, to_west.clone(), now, S);
    assert!(lost.is_err());
    // West re-reads: the dwell window stops it from flipping traffic back.
    for later in [now, now + 60, now + 599] {
        let (again, _) = read_and_decide(&west_view, Some(&stored), &p, later);
        assert!(!again.is_shift(), "at {later}: {again}");
        assert!(matches!(again, Decision::Alert(AlertReason::FailoverBlockedByDwell { .. })));
    }
}

#[test]
fn two_controllers_sharing_the_record_never_fight() {
    // Both controllers check every minute, read the record, decide, and write
    // in a random order. The record's history must equal what one controller
    // alone would have done: one write per shift, never a flip-flop.
    let p = policy();
    for seed in 1..=20u64 {
        let mut rng = Lcg(seed);
        let signal: Vec<(bool, bool)> = (0..180)
            .map(|i| {
                let burst = (i / 20) % 3;
                (burst != 1 || rng.chance(30), burst != 2 || rng.chance(30))
            })
            .collect();
        let alone = simulate(&signal, &p);

        let health = |up: bool| {
            if up {
                RegionHealth::Healthy
            } else {
                RegionHealth::Unhealthy(vec![Finding::ApiUnreachable])
            }
        };
        let mut stored: Option<DecisionRecord> = None;
        let mut histories = [History::default(), History::default()];
        let mut writes = Vec::new();
        for (i, &(pu, su)) in signal.iter().enumerate() {
            let now = 60 * i as u64;
            let mut intents = Vec::new();
            for h in histories.iter_mut() {
                *h = observe(h, &health(pu), &health(su));
                intents.push(read_and_decide(h, stored.as_ref(), &p, now));
            }
            assert_eq!(intents[0].0, intents[1].0, "seed {seed} check {i}");
            assert_eq!(intents[0].0, alone[i], "seed {seed} check {i}");
            let order: [usize; 2] = if rng.chance(50) { [0, 1] } else { [1, 0] };
            for c in order {
                let (decision, expected) = &intents[c];
                if let Decision::Shift { to, .. } = decision {
                    let region = [P, S][c];
                    match compare_and_set(stored.as_ref(), *expected, to.clone(), now, region) {
                        Ok(r) => {
                            writes.push(i);
                            stored = Some(r);
                        }
                        Err(_) => {
                            let (again, _) = read_and_decide(&histories[c], stored.as_ref(), &p, now);
                            assert!(matches!(again, Decision::Hold(_)), "seed {seed} check {i}: loser re-decided {again}");
                        }
                    }
                }
            }
        }
        let alone_shifts: Vec<usize> = alone.iter().enumerate().filter(|(_, d)| d.is_shift()).map(|(i, _)| i).collect();
        assert_eq!(writes, alone_shifts, "seed {seed}");
        assert_eq!(stored.map_or(0, |r| r.version), alone_shifts.len() as u64, "seed {seed}");
    }
}
