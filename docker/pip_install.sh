#!/bin/sh
# pip install for the image builds (docker/Dockerfile), with what the build
# was given to reach the package index: a CA bundle as the secret `ca` (a
# proxy that re-signs TLS) and a whole pip configuration as the secret
# `pip_conf` (an index with credentials). Secrets are mounted for one RUN
# only and never stored in a layer; without them pip uses its defaults and
# the PIP_* build arguments.
set -eu
if [ -f /run/secrets/ca ]; then
  export PIP_CERT=/run/secrets/ca
fi
if [ -f /run/secrets/pip_conf ]; then
  export PIP_CONFIG_FILE=/run/secrets/pip_conf
fi
exec pip install --no-cache-dir "$@"
