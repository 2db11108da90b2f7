#!/usr/bin/env bash
# One Dask worker per GPU of this node, with the worker settings minas's own local cluster uses
# (docs/cost.md, "GPU and Dask clusters"; minas/core/engine.py): worker i sees only GPU i (CUDA_VISIBLE_DEVICES),
# one thread, and the nanny's MALLOC_TRIM_THRESHOLD_=65536 unset (it was measured to double small-CNN training
# time). minas sets torch to one thread in every job itself, wherever it runs.
#
# usage: scripts/gpu_workers.sh SCHEDULER_ADDRESS [GPUS]
#   GPUS: comma-separated device ids (default: every GPU nvidia-smi lists), e.g. 0,1,2,3
# Run it on every GPU node (e.g. from a Slurm job), after `dask scheduler --port 8786` on one host; then
#   python -m minas run --profile full --set engine.scheduler=tcp://HOST:8786 --set engine.checkpoint_dir=/shared/ck
# The workers run until this script is stopped (Ctrl-C or kill; it stops its workers with it).
set -euo pipefail
scheduler=${1:?usage: scripts/gpu_workers.sh SCHEDULER_ADDRESS [GPUS]}
gpus=${2:-$(nvidia-smi --query-gpu=index --format=csv,noheader | paste -sd, -)}
export DASK_CONFIG="$(cd "$(dirname "$0")" && pwd)/dask"  # minas-worker.yaml: the nanny's MALLOC_TRIM_THRESHOLD_ unset
trap 'trap - EXIT; kill $(jobs -p) 2>/dev/null; wait' EXIT INT TERM
for gpu in ${gpus//,/ }; do
  CUDA_VISIBLE_DEVICES=$gpu dask worker "$scheduler" --nworkers 1 --nthreads 1 --memory-limit 0 \
    --name "$(hostname)-gpu$gpu" &
done
wait
