#!/bin/sh
# After every shard is done: the shards' outputs into one file, and the counts by
# distro, version and failure kind (`--json` for a machine).
# Usage: deploy/merge-and-report.sh OUTDIR [--json]
set -eu
OUT=$1
shift
cat "$OUT"/shard-*.jsonl > "$OUT/merged.jsonl"
guestctl batch report "$@" "$OUT/merged.jsonl"
