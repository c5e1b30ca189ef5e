#!/usr/bin/env bash
# The container test: builds the CPU image with docker or podman and trains
# mnist in it, exactly as the README tells a user to, then checks the
# results on the host. Run from anywhere; needs a host install of the
# harness (.venv, as in the README's setup) for `data prepare` and
# `docker-command`.
#
#   docker/test_image.sh [--tag TAG] [--keep]
#
# 1. The engine (docker/engine.sh): docker if its daemon answers, else
#    podman, installed with apt-get where possible, set up for sandboxes.
# 2. The base (PYTHON_IMAGE): $PYTHON_IMAGE if set; else the official
#    python:3.11.11-slim-bookworm, pulled; else, when Docker Hub cannot be
#    reached, localhost/algoperf-base:bookworm, made by docker/make_base.sh
#    (debootstrap; root) if it is not there yet.
# 3. The build, with the host's CA bundle as the secret `ca` (for proxies
#    that re-sign TLS) and PIP_INDEX_URL as a build argument when set.
# 4. `algoperf new my_algo` in the image, writing to a host directory.
# 5. That submission trained on mnist (20 steps) by the exact line
#    `algoperf docker-command` prints (no network, read-only root, ...),
#    into a results directory that docker-command creates; on the host:
#    the trial's status and evals, inputs unchanged.
# 6. The same line on an empty data directory: the error names the host's
#    directory, not /data.
# Prints the timings and the image size; exit 0 only if every check held.
# --keep leaves the work directory (data, results) and says where.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
ENGINE_LOG_PREFIX=test_image
# shellcheck source=docker/engine.sh
source "$repo/docker/engine.sh"

tag=algoperf-bench:cpu
keep=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --tag) tag="${2:?--tag needs a value}"; shift 2 ;;
    --keep) keep=1; shift ;;
    *) engine_fail "unknown option '$1'; use --tag TAG or --keep." ;;
  esac
done

started=$SECONDS
algoperf="${ALGOPERF_BIN:-$repo/.venv/bin/algoperf}"
[[ -x "$algoperf" ]] || algoperf="$(command -v algoperf || true)"
[[ -n "$algoperf" ]] || engine_fail 'no host install of the harness;' \
  "create it first: python3 -m venv .venv && .venv/bin/pip install -e '.[test]'" \
  '(or set ALGOPERF_BIN).'
engine_pick

work="$(mktemp -d "${TMPDIR:-/tmp}/algoperf-image-test.XXXXXX")"
cleanup() {
  if [[ "$keep" == 1 ]]; then
    engine_say "kept $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

# --- 2. the base
official=python:3.11.11-slim-bookworm
made_base=''
if [[ -n "${PYTHON_IMAGE:-}" ]]; then
  base="$PYTHON_IMAGE"
elif "$ENGINE" image inspect "docker.io/library/$official" > /dev/null 2>&1 ||
  "$ENGINE" pull -q "docker.io/library/$official" > /dev/null 2>&1; then
  base="docker.io/library/$official"
else
  base=localhost/algoperf-base:bookworm
  if ! "$ENGINE" image inspect "$base" > /dev/null 2>&1; then
    engine_say "cannot pull $official; making $base (docker/make_base.sh)"
    t=$SECONDS
    ALGOPERF_ENGINE="$ENGINE" "$repo/docker/make_base.sh" "$base"
    made_base=" (made here in $((SECONDS - t)) s)"
  fi
fi
engine_say "base: $base$made_base"

# --- 3. the build
build=("$ENGINE" build -f "$repo/docker/Dockerfile" --target cpu -t "$tag"
  --build-arg "PYTHON_IMAGE=$base")
# Podman 4 does not look for Dockerfile.dockerignore next to the file.
[[ "$ENGINE" == podman ]] &&
  build+=(--ignorefile "$repo/docker/Dockerfile.dockerignore")
for ca in "${PIP_CERT:-}" "${REQUESTS_CA_BUNDLE:-}" "${SSL_CERT_FILE:-}" \
  /etc/ssl/certs/ca-certificates.crt; do
  if [[ -n "$ca" && -f "$ca" ]]; then
    build+=(--secret "id=ca,src=$ca")
    break
  fi
done
[[ -n "${PIP_INDEX_URL:-}" ]] &&
  build+=(--build-arg "PIP_INDEX_URL=$PIP_INDEX_URL")
engine_say "building $tag: ${build[*]} $repo"
t=$SECONDS
nice -n 10 "${build[@]}" "$repo" > "$work/build.log" 2>&1 || {
  tail -20 "$work/build.log" >&2
  keep=1
  engine_fail "the build failed; log: $work/build.log"
}
build_s=$((SECONDS - t))
size="$("$ENGINE" image inspect --format '{{.Size}}' "$tag" |
  awk '{printf "%.2f GB", $1 / 1e9}')"
engine_say "built $tag in $build_s s, $size"

check() {  # check DESCRIPTION COMMAND...: fails the test with DESCRIPTION.
  local what="$1"
  shift
  "$@" || {
    keep=1
    engine_fail "check failed: $what (work directory $work)"
  }
}

# --- 4. algoperf new in the image (a non-editable install)
mkdir -p "$work/home"
t=$SECONDS
"$ENGINE" run --rm --init --network none --read-only --user "$(id -u):$(id -g)" \
  --mount "type=bind,source=$work/home,target=/work" --workdir /work \
  --entrypoint algoperf "$tag" new my_algo > "$work/new.log" 2>&1 || {
  cat "$work/new.log" >&2
  keep=1
  engine_fail 'algoperf new failed in the image'
}
check 'algoperf new wrote the template' \
  test -f "$work/home/submissions/my_algo/submission.py"
check 'the template names the new submission' \
  grep -q 'submission_name: my_algo' \
  "$work/home/submissions/my_algo/submission_info.yml"
new_s=$((SECONDS - t))
engine_say "algoperf new in the image: ok ($new_s s)"

# --- 5. train mnist with the exact docker-command line
submission="$work/home/submissions/my_algo"
"$algoperf" data prepare mnist --data-dir "$work/data" > /dev/null
digest() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum); }
inputs_before="$(digest "$work/data")$(digest "$submission")"
results="$work/results"
line="$("$algoperf" docker-command --engine "$ENGINE" --image "$tag" \
  --submission "$submission" --data-dir "$work/data" \
  --results-dir "$results" --name container_test --memory 4g \
  -- run --workload mnist --max-steps 20 --no-progress)"
engine_say "running: $line"
t=$SECONDS
eval "$line" > "$work/run.log" 2>&1 || {
  tail -20 "$work/run.log" >&2
  keep=1
  engine_fail "training in the container failed; log: $work/run.log"
}
train_s=$((SECONDS - t))
trial="$results/container_test/study_0/mnist_jax/trial_1"
check 'the trial ended at --max-steps' \
  grep -q '"status": "max_steps"' "$trial/status.json"
check 'the trial logged evals' test -s "$trial/eval_measurements.csv"
check 'the results belong to this user' \
  test "$(stat -c %u "$trial/status.json")" == "$(id -u)"
check 'the read-only inputs are unchanged' \
  test "$inputs_before" == "$(digest "$work/data")$(digest "$submission")"
engine_say "trained mnist in the container: max_steps ($train_s s)"

# --- 6. an error in the user's terms
mkdir -p "$work/empty"
line="$("$algoperf" docker-command --engine "$ENGINE" --image "$tag" \
  --submission "$submission" --data-dir "$work/empty" \
  --results-dir "$results" --name missing_data --memory 4g \
  -- run --workload mnist --no-progress)"
set +e
eval "$line" > "$work/missing.log" 2>&1
code=$?
set -e
check "missing data exits 1 (found $code)" test "$code" == 1
check 'the error names the host data directory' \
  grep -q -- "--data-dir $work/empty" "$work/missing.log"
check 'the error does not name /data' \
  bash -c "! grep -q -- '--data-dir /data' '$work/missing.log'"
engine_say 'missing data: the error names the host directory'

total_s=$((SECONDS - started))
cat << EOF
test_image: PASS ($(date -u +%Y-%m-%d), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))
  engine   $("$ENGINE" --version | head -1)
  base     $base$made_base
  build    $tag in $build_s s, $size
  new      algoperf new my_algo in the image: ok ($new_s s)
  train    mnist, 20 steps, by the docker-command line: max_steps ($train_s s)
  errors   missing data named as $work/empty, exit 1
  total    $total_s s
EOF
