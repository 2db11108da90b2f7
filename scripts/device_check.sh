#!/usr/bin/env bash
# The prepared GPU check of issue 25, for a session that is lent a device (the `run` tool; about 15 minutes):
#   1. here, once:   python3 -m pip download --no-deps -d .device-wheels mlxtend   (the device image lacks it)
#   2. on the device: run(command="bash scripts/device_check.sh", carry=[".device-wheels"], timeout_s=540)
# It uses the image's own python3 (PyTorch there; no .venv travels) with this checkout on PYTHONPATH, and writes
# under $OUT: the GPU's name, population training against one network at a time (per-network images/s by width and
# group size, fp32 and bf16), a smoke collection per train.group_size on CUDA, and this device's throughput with
# the `full` plan priced on it. Commit what comes back under docs/measurements/<device>-<date>/.
# On a CPU, for a dry run: OUT=/tmp/dc PY=.venv/bin/python POP_ARGS="--rows 128 --repeats 1 --devices cpu" \
#   COLLECT_DEVICE=cpu bash scripts/device_check.sh
set -u
OUT=${OUT:-device-out}
PY=${PY:-python3}
POP_ARGS=${POP_ARGS:-}
COLLECT_DEVICE=${COLLECT_DEVICE:-cuda}
mkdir -p "$OUT"
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
if ! $PY -c "import mlxtend" 2>/dev/null; then
  $PY -m pip install --quiet --no-index --no-deps --find-links .device-wheels mlxtend \
    || { echo "mlxtend is missing and .device-wheels has no wheel of it: see step 1 above" | tee "$OUT/error.txt"; exit 1; }
fi
step() {  # name, command...: run it, keep its output, say how long it took
  local name=$1; shift
  local t0=$SECONDS
  "$@" > "$OUT/$name.txt" 2>&1
  echo "$name: exit $?, $((SECONDS - t0)) s" | tee -a "$OUT/steps.txt"
}
step gpu nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
step population_training $PY benchmarks/population_training.py --profile default $POP_ARGS
step collection_groups $PY benchmarks/collection_groups.py --profile smoke --tasks mnist,digits8 --sizes 1,0,16 --device "$COLLECT_DEVICE"
step plan_full $PY -m minas plan --profile full --set device="$COLLECT_DEVICE" --save-throughput "$OUT/throughput_full.json"
