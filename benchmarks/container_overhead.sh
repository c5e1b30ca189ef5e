#!/usr/bin/env bash
# Container overhead: steps/s of the same mnist trial (same submission,
# data, seed) run by the host's install and inside the CPU image by the
# exact `algoperf docker-command` line, alternating host and container so
# both see the same machine load. Prints each run's rate, the medians and
# their ratio (container / host; goal >= 0.97), with load average and the
# runs' wall and CPU time.
#
#   benchmarks/container_overhead.sh [--image TAG] [--repeats N]
#
# The image must exist (docker/test_image.sh builds algoperf-bench:cpu).
# Steps/s: between the trial's first eval (after step 1, so compilation is
# left out) and its last, in submission time (accumulated_submission_time
# of eval_measurements.csv). Self-tuning ruleset: 3x mnist's 2 s budget,
# so the timed window is ~5 s; process start-up is not timed.
#
# Both sides get the same CPU weight: a container is a cgroup of its own,
# which the kernel weighs against the host's processes as one, ignoring
# their niceness; so under `nice` the container would get far more CPU than
# the host's trial on a busy machine (measured: 2.2x the steps/s at load
# average 7 without this). The container is given the weight of this
# shell's niceness (--cpu-shares; cgroups v1 and v2 alike in podman/docker).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
ENGINE_LOG_PREFIX=container_overhead
# shellcheck source=docker/engine.sh
source "$repo/docker/engine.sh"

image=algoperf-bench:cpu
repeats=5
while [[ $# -gt 0 ]]; do
  case "$1" in
    --image) image="${2:?--image needs a value}"; shift 2 ;;
    --repeats) repeats="${2:?--repeats needs a value}"; shift 2 ;;
    *) engine_fail "unknown option '$1'; use --image TAG or --repeats N." ;;
  esac
done
algoperf="${ALGOPERF_BIN:-$repo/.venv/bin/algoperf}"
[[ -x "$algoperf" ]] || engine_fail "no host install at $algoperf (README," \
  '"Setup"), or set ALGOPERF_BIN.'
engine_pick
"$ENGINE" image inspect "$image" > /dev/null 2>&1 ||
  engine_fail "no image $image; build it first: docker/test_image.sh"

work="$(mktemp -d "${TMPDIR:-/tmp}/algoperf-overhead.XXXXXX")"
trap 'rm -rf "$work"' EXIT
(cd "$work" && "$algoperf" new bench > /dev/null)
submission="$work/submissions/bench"
"$algoperf" data prepare mnist --data-dir "$work/data" > /dev/null
trial_args=(run --workload mnist --ruleset self --max-steps 1000000
  --rng-seed 0 --no-progress)
# The kernel's weight of a niceness: 1024 at 0, /1.25 per step (15 at 19).
shares="$(awk -v n="$(nice)" 'BEGIN { printf "%d", 1024 / 1.25 ^ n + 0.5 }')"

rate() {  # rate TRIAL_DIR: steps/s after the first eval, in submission time.
  "$repo/.venv/bin/python" - "$1/eval_measurements.csv" << 'EOF'
import csv, sys
rows = sorted(csv.DictReader(open(sys.argv[1])),
              key=lambda r: int(r['global_step']))
first, last = rows[0], rows[-1]
steps = int(last['global_step']) - int(first['global_step'])
secs = (float(last['accumulated_submission_time'])
        - float(first['accumulated_submission_time']))
print(f'{steps / secs:.1f} {steps}')
EOF
}

timed() {  # timed LOG CMD...: runs CMD, appends "wall user+sys" to LOG.
  local log="$1"
  shift
  /usr/bin/time -f '%e %U %S' -o "$log.time" "$@" > "$log" 2>&1
}

host_rates=()
container_rates=()
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); niceness $(nice)," \
  "container --cpu-shares $shares"
for i in $(seq 1 "$repeats"); do
  timed "$work/host_$i.log" "$algoperf" "${trial_args[@]}" \
    --submission "$submission" --data-dir "$work/data" \
    --experiment-dir "$work/host" --name "run_$i"
  read -r r s < <(rate "$work/host/run_$i/study_0/mnist_jax/trial_1")
  host_rates+=("$r")
  echo "host      run $i: $r steps/s ($s steps; wall/user/sys" \
    "$(cat "$work/host_$i.log.time") s)"

  line="$("$algoperf" docker-command --engine "$ENGINE" --image "$image" \
    --submission "$submission" --data-dir "$work/data" \
    --results-dir "$work/container" --name "run_$i" 2> /dev/null \
    -- "${trial_args[@]}")"
  # The docker-command line, plus the CPU weight of this niceness.
  line="${line/ run / run --cpu-shares $shares }"
  timed "$work/container_$i.log" bash -c "$line"
  read -r r s < <(rate "$work/container/run_$i/study_0/mnist_jax/trial_1")
  container_rates+=("$r")
  echo "container run $i: $r steps/s ($s steps; wall/user/sys" \
    "$(cat "$work/container_$i.log.time") s; user/sys of the engine" \
    'client only)'
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {
  print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2)}'; }
host_median="$(median "${host_rates[@]}")"
container_median="$(median "${container_rates[@]}")"
awk -v h="$host_median" -v c="$container_median" -v n="$repeats" \
  -v e="$ENGINE" -v img="$image" 'BEGIN {
  printf "median steps/s over %d runs each: host %.1f, container (%s, %s) %.1f;" \
    " ratio container/host %.3f\n", n, h, e, img, c, c / h }'
# Each container run against the host run just before it: load that drifts
# over minutes cancels; the spread says how much the load still moved.
ratios=()
for i in "${!host_rates[@]}"; do
  ratios+=("$(awk -v h="${host_rates[$i]}" -v c="${container_rates[$i]}" \
    'BEGIN { printf "%.3f", c / h }')")
done
sorted="$(printf '%s\n' "${ratios[@]}" | sort -g | tr '\n' ' ')"
echo "pairwise ratios container/host: ${ratios[*]}; median" \
  "$(median "${ratios[@]}"), range ${sorted%% *} to $(echo "$sorted" |
  awk '{print $NF}')"
