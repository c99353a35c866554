#!/bin/bash
# guestctl batch as a Slurm job array: task I inspects shard I of the image list
# (Slurm sets SLURM_ARRAY_TASK_ID), each writing its own output file on shared
# storage. Submit with `sbatch deploy/slurm-array.sh`; a task that is killed or
# preempted is requeued (or resubmit it alone: `sbatch --array=1 deploy/slurm-array.sh`)
# and resumes from its output: every image is recorded exactly once.
#
# SHARDS must match --array=0-(SHARDS-1). Exit status 1 (some images failed, each
# with an error record) is success for Slurm; anything else fails the task.
# Afterwards: deploy/merge-and-report.sh "$FLEET/out" (docs/fleet.md).
#SBATCH --job-name=guestctl-fleet
#SBATCH --array=0-2
#SBATCH --cpus-per-task=2
#SBATCH --mem=256M
#SBATCH --requeue
#SBATCH --output=guestctl-fleet-%A_%a.log

SHARDS=3
FLEET=${FLEET:-/shared/fleet}
mkdir -p "$FLEET/out"
guestctl batch --files-from "$FLEET/images.txt" --jobs "${SLURM_CPUS_PER_TASK:-2}" \
  --shard-index "$SLURM_ARRAY_TASK_ID" --shard-count "$SHARDS" \
  --output "$FLEET/out/shard-$SLURM_ARRAY_TASK_ID.jsonl" --resume \
  --summary --no-cache --no-progress
status=$?
[ "$status" -le 1 ]
