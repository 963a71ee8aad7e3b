//! Shifts caused by a flapping health signal over a fixed period: the
//! figure the hysteresis and the dwell window exist to keep small.
//!
//! `cargo bench -p tandem-failover --bench flapping` runs the pure decision
//! core (`tandem_failover::simulate`, one controller applying every shift at
//! once) over 24 hours of checks at the production interval (60 s) and prints,
//! per signal, the shifts made and the most made in any dwell window, for the
//! default policy (N 3, M 5, dwell 10 min), the same without the dwell, and
//! the seed's design (act on every check: N 1, M 1, no dwell).

// A benchmark prints its figures.
#![allow(clippy::print_stdout)]

use std::time::{Duration, Instant};
use tandem_failover::{simulate, Decision, Policy};

const DAY: u64 = 24 * 60 * 60;

/// A small deterministic generator, so runs print the same figures.
struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn shift_times(decisions: &[Decision], p: &Policy) -> Vec<u64> {
    let step = p.probe_interval.as_secs();
    decisions.iter().enumerate().filter(|(_, d)| d.is_shift()).map(|(i, _)| i as u64 * step).collect()
}

fn max_in_window(times: &[u64], window: u64) -> usize {
    (0..times.len()).map(|i| times[i..].iter().take_while(|t| **t < times[i] + window.max(1)).count()).max().unwrap_or(0)
}

fn main() {
    let base = Policy::new("us-east-1", "us-west-2");
    let checks = (DAY / base.probe_interval.as_secs()) as usize;
    let mut no_dwell = base.clone();
    no_dwell.min_dwell = Duration::ZERO;
    let mut seed_design = no_dwell.clone();
    seed_design.failures_to_fail_over = 1;
    seed_design.successes_to_return = 1;
    let policies = [("default (N3 M5 dwell 600s)", &base), ("no dwell (N3 M5)", &no_dwell), ("every check (N1 M1)", &seed_design)];

    let mut signals: Vec<(String, Vec<(bool, bool)>)> = vec![
        ("primary down 3 / up 5 checks, repeating".into(), (0..checks).map(|i| (i % 8 >= 3, true)).collect()),
        ("primary alternates every check".into(), (0..checks).map(|i| (i % 2 == 0, true)).collect()),
    ];
    for p_fail in [0.05, 0.2, 0.5] {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        signals.push((
            format!("primary fails {:.0}% of checks at random", p_fail * 100.0),
            (0..checks).map(|_| (rng.next() >= p_fail, true)).collect(),
        ));
    }
    let mut rng = XorShift(42);
    signals.push(("both fail 20% of checks at random".into(), (0..checks).map(|_| (rng.next() >= 0.2, rng.next() >= 0.2)).collect()));

    println!("24 h of checks every {} s ({checks} checks), one controller:", base.probe_interval.as_secs());
    println!("{:<44} {:<28} {:>7} {:>18}", "signal", "policy", "shifts", "max per 600 s");
    let t = Instant::now();
    for (name, signal) in &signals {
        for (pname, p) in policies {
            let times = shift_times(&simulate(signal, p), p);
            println!("{:<44} {:<28} {:>7} {:>18}", name, pname, times.len(), max_in_window(&times, 600));
        }
    }
    let runs = signals.len() * policies.len();
    println!("({runs} simulated days in {:.1} ms)", t.elapsed().as_secs_f64() * 1000.0);
}
