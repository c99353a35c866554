#!/bin/sh
# The same as gnu-parallel.sh with only xargs: 4 processes, one output file each.
# Usage: deploy/xargs.sh LIST OUTDIR
set -u
LIST=$1 OUT=$2
mkdir -p "$OUT"
seq 0 3 | xargs -P 4 -I{} \
  guestctl batch --files-from "$LIST" --shard-index {} --shard-count 4 --jobs 1 \
  --output "$OUT/shard-{}.jsonl" --resume --summary --no-cache --quiet
