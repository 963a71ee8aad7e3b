#!/usr/bin/env bash
# Fuzz what `tandem validate` does with a spec's text (fuzz_targets/spec_load.rs)
# with libFuzzer, on the stable toolchain: cargo-fuzz's -Z flags are accepted
# with RUSTC_BOOTSTRAP=1, and no sanitizer is needed for safe Rust (-s none;
# a panic, abort, stack overflow, timeout or runaway allocation is the crash).
#   cargo install cargo-fuzz --locked   # once
#   fuzz/run.sh [RUNS] [extra libFuzzer flags]   # RUNS: executions, default 1000000
# A crasher lands in fuzz/regressions/ (crash-*, timeout-*, oom-*): make it a
# regression test (tests/validate.rs reads that folder) and fix the cause.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
runs="${1:-1000000}"
shift || true
corpus="${CORPUS:-$here/../target/fuzz/corpus/spec_load}"
python3 seeds.py "$corpus"
# Today's kinds, for a target that links no cloud SDK (tests/validate.rs).
(cd .. && cargo test --locked -q --test validate kind_schemas_for_the_fuzzer -- --ignored >/dev/null)
export RUSTC_BOOTSTRAP=1
cargo fuzz build -s none -a --target-dir ../target/fuzz spec_load
# -timeout 10 s and -rss_limit_mb 2048: the budgets a hostile spec must stay in (issue 19's trial);
# -max_len 64 KiB leaves room for deep nesting and long scalars.
cargo fuzz run -s none -a --target-dir ../target/fuzz spec_load "$corpus" -- \
  -runs="$runs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 -dict=spec.dict \
  -artifact_prefix="$here/regressions/" -print_final_stats=1 "$@"
