#!/bin/sh
# One partition of image paths on stdin, one JSON record per image on stdout: what
# Spark's RDD.pipe and a Ray task running a subprocess hand to an external command.
#   Spark: sc.textFile("images.txt").repartition(64).pipe("deploy/partition-pipe.sh")
#   Ray:   subprocess.run(["deploy/partition-pipe.sh"], input="\n".join(paths),
#                         capture_output=True, text=True, check=True).stdout
# Records are keyed by image path (their index is the position in the partition).
# Exit status 1 (some images failed, each with an error record) is success here,
# since both engines fail the whole task on a non-zero status.
guestctl batch --files-from - --json --summary --no-cache --jobs 1 --quiet
status=$?
[ "$status" -le 1 ]
