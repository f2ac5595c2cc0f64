#!/usr/bin/env bash
# Queue the shards (a job array) and the merge that waits for all of them.
# Run from the course folder: COURSE_DIR defaults to it; CNN_GRADE_VENV to ~/cnn-grade-venv.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p logs
array=$(sbatch --parsable "$here/grade.sbatch")
sbatch --dependency="afterany:${array%%;*}" "$here/merge.sbatch"
echo "queued shards as job $array; the merge runs when they have all ended"
