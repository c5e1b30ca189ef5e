#!/usr/bin/env bash
# Makes the images' base without Docker Hub: a Debian bookworm root file
# system with Python 3.11 and venv (debootstrap, from a Debian mirror),
# imported into the container engine. For machines that cannot pull the
# default base (python:3.11.11-slim-bookworm); then build with
#
#   docker build --build-arg PYTHON_IMAGE=localhost/algoperf-base:bookworm ...
#
#   docker/make_base.sh [TAG]     (root; default TAG localhost/algoperf-base:bookworm)
#
# DEBIAN_MIRROR picks the mirror (default http://deb.debian.org/debian);
# debootstrap is installed with apt-get when missing. Takes ~1-2 min.
set -euo pipefail
cd "$(dirname "$0")"
ENGINE_LOG_PREFIX=make_base
# shellcheck source=docker/engine.sh
source ./engine.sh

tag="${1:-localhost/algoperf-base:bookworm}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
[[ "$(id -u)" == 0 ]] || engine_fail 'debootstrap needs root; run as root' \
  '(or pull the default base instead: docker pull python:3.11.11-slim-bookworm).'
if ! command -v debootstrap > /dev/null; then
  engine_say 'installing debootstrap with apt-get'
  apt-get update -qq > /dev/null &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap \
      > /dev/null || engine_fail 'debootstrap is missing and apt-get could' \
      'not install it; install debootstrap.'
fi
engine_pick

root="$(mktemp -d "${TMPDIR:-/tmp}/algoperf-base.XXXXXX")"
trap 'rm -rf "$root"' EXIT
engine_say "debootstrap bookworm from $mirror into $root"
# python3-venv: the images install into a venv (Debian's own Python refuses
# pip installs into the system, PEP 668).
debootstrap --variant=minbase \
  --include=python3,python3-venv,ca-certificates bookworm "$root" \
  "$mirror" > "$root.log" 2>&1 || {
  tail -5 "$root.log" >&2
  engine_fail "debootstrap failed (log: $root.log); is $mirror reachable?"
}
rm -f "$root.log"
# What a slim image leaves out: package caches, lists, docs.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
  "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/locale/*
tar -C "$root" -c . | "$ENGINE" import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' --change 'CMD ["python3"]' - "$tag" > /dev/null
engine_say "imported $tag ($("$ENGINE" image inspect --format '{{.Size}}' \
  "$tag" | awk '{printf "%.0f MB", $1 / 1e6}'))"
