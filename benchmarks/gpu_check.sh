#!/usr/bin/env bash
# The GPU check of the AlgoPerf suite (README: "AlgoPerf suite"): every
# full workload a few hundred steps on synthetic data at AlgoPerf's batch
# sizes -- compile time, steps/s, examples/s, peak memory, eval time --
# under a 10-minute limit. Output: stdout, and benchmarks/gpu_check.out.
#
#   benchmarks/gpu_check.sh [STEPS]      # default 200 steps per workload
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
STEPS=${1:-200}
{
  date -u
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv \
    || echo "no nvidia-smi: not a GPU machine"
  "$PY" -c 'import jax; print("jax", jax.__version__, jax.devices())'
  # 570 s for the workloads: the whole check stays under 10 minutes.
  timeout 570 "$PY" benchmarks/gpu_check.py --steps "$STEPS"
} 2>&1 | tee benchmarks/gpu_check.out
