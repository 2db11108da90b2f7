#!/usr/bin/env bash
# Issue 25's resume target: a clean series, then the same series killed (kill -9, whole process group) half-way
# through the clean time and rerun to the end; prints both times and rerun / clean.
# Usage: scripts/kill_rerun_check.sh [PROFILE] [OUT_ROOT]   (defaults: smoke, /tmp/minas-kill)
set -u
PROFILE=${1:-smoke}
ROOT=${2:-/tmp/minas-kill}
PY=${PY:-.venv/bin/python}
rm -rf "$ROOT"; mkdir -p "$ROOT"
export MINAS_PLAN=off
t0=$(date +%s.%N)
$PY -m minas run --profile "$PROFILE" --set output_dir="$ROOT/clean" > "$ROOT/clean.log" 2>&1 || { echo "clean run failed: $ROOT/clean.log"; exit 1; }
clean=$(echo "$(date +%s.%N) - $t0" | bc)
half=$(echo "$clean / 2" | bc)
setsid $PY -m minas run --profile "$PROFILE" --set output_dir="$ROOT/killed" > "$ROOT/killed.log" 2>&1 &
pid=$!
sleep "$half"
tree() { echo "$1"; for c in $(pgrep -P "$1"); do tree "$c"; done; }
victims=$(tree "$pid")  # the run, its kernels (their own sessions) and workers, as a crash would take them
kill -9 $victims 2>/dev/null
wait "$pid" 2>/dev/null
t1=$(date +%s.%N)
$PY -m minas run --profile "$PROFILE" --set output_dir="$ROOT/killed" > "$ROOT/rerun.log" 2>&1 || { echo "rerun failed: $ROOT/rerun.log"; exit 1; }
rerun=$(echo "$(date +%s.%N) - $t1" | bc)
printf 'clean %.1f s; killed after %.1f s; rerun to the end %.1f s (%.2f of clean)\n' "$clean" "$half" "$rerun" "$(echo "$rerun / $clean" | bc -l)"
grep -a "\[minas\]" "$ROOT/killed.log" | tail -2 | sed 's/^/killed run: /'
grep -a "\[minas\]" "$ROOT/rerun.log" | sed 's/^/rerun: /'
