#!/usr/bin/env bash
# Performance validation: build guestctl in release, run `guestctl perf validate`
# (the standard suite), compare with performance-results/baseline.json (the first
# run creates it), and write performance-results/{current.json,report.md,report.json}.
#
# Once a baseline exists, every run is paired: the baseline's own binary (kept
# under performance-results/bin/, or rebuilt from its commit) and this build are
# measured in alternating rounds of one session, so the machine's state of the
# moment cancels out (docs/perf-methodology.md). Reports say when a comparison
# could not be paired ("unpaired: run-to-run machine noise not controlled").
#
# Usage: ./scripts/validate-performance.sh [guestctl perf validate options...]
#   e.g. ./scripts/validate-performance.sh --filter minimal
#        ./scripts/validate-performance.sh --against origin/main   (a pull request)
#        ./scripts/validate-performance.sh --self-check            (the detector's rates)
#
# Exit status: 0 nothing regressed, 2 a regression was detected (or a missed target,
# with --fail-on-target-miss), 1 any error (a mistyped option, build failure,
# unreadable baseline, failed test). Results go to stdout, warnings to stderr. Under
# GitHub Actions (GITHUB_ACTIONS=true) regressions and missed targets are also
# printed as annotations.
#
# Environment: GUESTCTL_BIN=/path/to/guestctl skips the build and uses that binary.
set -uo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo" || exit 1

if [ -n "${GUESTCTL_BIN:-}" ]; then
  bin="$GUESTCTL_BIN"
else
  echo "building guestctl (release)…" >&2
  if ! cargo build --release --bin guestctl >&2; then
    echo "error: the release build failed" >&2
    exit 1
  fi
  target_dir="${CARGO_TARGET_DIR:-$repo/target}"
  bin="$target_dir/release/guestctl"
fi
if [ ! -x "$bin" ]; then
  echo "error: guestctl binary not found or not executable: $bin" >&2
  exit 1
fi

# The results directory, for the annotations (same default and flag as validate).
results_dir="performance-results"
prev=""
for arg in "$@"; do
  case "$arg" in
    --results-dir=*) results_dir="${arg#--results-dir=}" ;;
  esac
  if [ "$prev" = "--results-dir" ]; then results_dir="$arg"; fi
  prev="$arg"
done

"$bin" perf validate "$@"
status=$?
case "$status" in
  0|2) ;;
  *) echo "error: performance validation failed (exit $status)" >&2; exit 1 ;;
esac

if [ "${GITHUB_ACTIONS:-}" = "true" ]; then
  # Annotations come from the report.json just written, rendered by guestctl itself.
  "$bin" perf report --results-dir "$results_dir" --format github
  rs=$?
  # `perf report` exits 2 on a regression too; anything else is an error.
  if [ "$rs" -ne 0 ] && [ "$rs" -ne 2 ]; then
    echo "error: could not read $results_dir/report.json" >&2
    exit 1
  fi
fi

if [ "$status" -eq 2 ]; then
  echo "performance regression detected: see $results_dir/report.md" >&2
fi
exit "$status"
