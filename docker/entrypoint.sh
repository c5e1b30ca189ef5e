#!/usr/bin/env bash
# Runs a submission with the harness: the container's entrypoint, and usable
# as is outside a container (set the paths by environment or options).
#
#   entrypoint.sh run   [--workload W | --suite cpu] [algoperf run options]
#   entrypoint.sh study [--workloads W,W | --suite cpu] [algoperf study opts]
#   entrypoint.sh validate [algoperf validate options]
#
# Paths (option > environment > container default):
#   --submission DIR   ALGOPERF_SUBMISSION   /submission  (read-only)
#   --data-dir DIR     ALGOPERF_DATA_DIR     /data        (read-only)
#   --results-dir DIR  ALGOPERF_RESULTS_DIR  /results     (written)
#   --name NAME        ALGOPERF_EXPERIMENT_NAME  submission
# ALGOPERF_BIN picks the algoperf executable (default: algoperf on PATH).
# Everything else is passed to `algoperf run|study` unchanged.
# ALGOPERF_HOST_PATHS (set by `algoperf docker-command`): messages name the
# host's paths. ALGOPERF_REQUIRE_GPU=1 (the GPU image): run and study stop
# when JAX finds no GPU, unless JAX_PLATFORMS is set (JAX_PLATFORMS=cpu).
set -euo pipefail

usage() {
  sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
}

# The Python of the algoperf install (maps paths, checks GPUs).
python_of() {
  local bin
  bin="$(command -v "$1" || true)"
  if [[ -n "$bin" && -x "$(dirname "$bin")/python" ]]; then
    echo "$(dirname "$bin")/python"
  else
    echo python3
  fi
}

# A message in the user's terms: container paths as the host paths mounted.
say() {
  if [[ -n "${ALGOPERF_HOST_PATHS:-}" ]]; then
    "$python" -m algoperf.host_paths "entrypoint: $*" >&2 ||
      echo "entrypoint: $*" >&2
  else
    echo "entrypoint: $*" >&2
  fi
}

fail() {
  say "error: $*"
  exit 2
}

command="${1:-}"
if [[ -z "$command" || "$command" == "-h" || "$command" == "--help" ]]; then
  usage
  exit 0
fi
shift
case "$command" in
  run | study | validate) ;;
  *) fail "unknown command '$command'; use run, study or validate." ;;
esac

submission="${ALGOPERF_SUBMISSION:-/submission}"
data_dir="${ALGOPERF_DATA_DIR:-/data}"
results_dir="${ALGOPERF_RESULTS_DIR:-/results}"
name="${ALGOPERF_EXPERIMENT_NAME:-submission}"
algoperf="${ALGOPERF_BIN:-algoperf}"
python="$(python_of "$algoperf")"
passed=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --submission) submission="${2:?--submission needs a directory}"; shift 2 ;;
    --data-dir) data_dir="${2:?--data-dir needs a directory}"; shift 2 ;;
    --results-dir | --experiment-dir)
      results_dir="${2:?$1 needs a directory}"; shift 2 ;;
    --name) name="${2:?--name needs a value}"; shift 2 ;;
    *) passed+=("$1"); shift ;;
  esac
done

[[ -f "$submission/submission.py" ]] || fail "no submission.py in" \
  "'$submission'; mount the submission directory read-only there" \
  "(-v DIR:/submission:ro) or pass --submission DIR."

if [[ "$command" == "validate" ]]; then
  exec "$algoperf" validate "$submission" "${passed[@]}"
fi

[[ -d "$data_dir" ]] || fail "data directory '$data_dir' does not exist;" \
  "prepare data outside the container (algoperf data prepare NAME" \
  "--data-dir D) and mount it read-only (-v D:/data:ro), or pass --data-dir."
mkdir -p "$results_dir" 2> /dev/null || true
[[ -d "$results_dir" && -w "$results_dir" ]] || fail "results directory" \
  "'$results_dir' is not writable; mount a writable directory there" \
  "(-v R:/results) or pass --results-dir."

if [[ "${ALGOPERF_REQUIRE_GPU:-}" == 1 ]]; then
  # One line and exit 5 (infrastructure) when JAX would fall back to CPU.
  "$python" -m algoperf.gpu_check || exit $?
fi

say "algoperf $command: submission $submission, data $data_dir," \
  "results $results_dir/$name"
exec "$algoperf" "$command" --submission "$submission" --data-dir "$data_dir" \
  --experiment-dir "$results_dir" --name "$name" "${passed[@]}"
