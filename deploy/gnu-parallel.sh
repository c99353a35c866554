#!/bin/sh
# guestctl batch on one machine (or several, with parallel's --sshlogin) with GNU
# parallel: SHARDS processes of one thread each, shard {} of the list, one output
# file per process (so no two processes ever write to the same file or pipe).
# Run it again after an interruption: each shard resumes from its output.
# Usage: deploy/gnu-parallel.sh LIST OUTDIR [SHARDS]
set -u
LIST=$1 OUT=$2 SHARDS=${3:-4}
mkdir -p "$OUT"
seq 0 $((SHARDS - 1)) | parallel --jobs "$SHARDS" \
  guestctl batch --files-from "$LIST" --shard-index {} --shard-count "$SHARDS" --jobs 1 \
  --output "$OUT/shard-{}.jsonl" --resume --summary --no-cache --quiet
