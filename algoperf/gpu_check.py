"""Refuses to train on CPU where GPUs were expected (the GPU image).

Without a usable GPU, JAX with the CUDA plugin logs a traceback and falls
back to CPU: a GPU image run on the wrong machine would train for hours on
CPU and exit 0. The GPU image sets ALGOPERF_REQUIRE_GPU=1 and its
entrypoint runs this first:

  python -m algoperf.gpu_check   # exit 0: GPUs found, or JAX_PLATFORMS set
                                 # exit 5: one line saying why and the fix

JAX_PLATFORMS set (e.g. JAX_PLATFORMS=cpu) is asking for a platform, so
nothing is checked. JAX is probed in a child process, whose logs and
tracebacks stay out of the user's terminal.
"""

import json
import os
import subprocess
import sys

from algoperf import exit_codes

REQUIRE_ENV = 'ALGOPERF_REQUIRE_GPU'
# First CUDA initialisation on a large machine can take a while.
PROBE_TIMEOUT_SEC = 300
PLUGIN = 'jax_cuda12_plugin'


def _probe() -> dict:
  """In the probe process: JAX's CUDA devices, or why there are none."""
  import importlib.util

  if importlib.util.find_spec(PLUGIN) is None:
    return {'error': f"JAX's CUDA plugin is not installed ({PLUGIN}; "
                     "pip install '.[gpu]')"}
  import jax

  try:
    devices = jax.devices('cuda')
  except Exception as e:  # noqa: BLE001 -- reported in one line.
    first = (str(e).strip().splitlines() or [type(e).__name__])[0]
    return {'error': first[:200]}
  return {'count': len(devices), 'kind': devices[0].device_kind}


def probe(timeout: float = PROBE_TIMEOUT_SEC) -> dict:
  """{'count', 'kind'} of the GPUs JAX finds, or {'error'}."""
  env = dict(os.environ, JAX_PLATFORMS='cuda')  # Never fall back to CPU.
  try:
    proc = subprocess.run(
      [sys.executable, '-m', 'algoperf.gpu_check', '--probe'], env=env,
      capture_output=True, text=True, timeout=timeout, check=False)
  except subprocess.TimeoutExpired:
    return {'error': f'JAX did not initialise CUDA within {timeout:.0f} s'}
  lines = proc.stdout.strip().splitlines()
  if proc.returncode == 0 and lines:
    return json.loads(lines[-1])
  tail = (proc.stderr.strip().splitlines() or ['no output'])[-1]
  return {'error': f'the probe exited with code {proc.returncode}: '
                   f'{tail[:200]}'}


def check() -> int:
  """Prints one line; the exit status of `python -m algoperf.gpu_check`."""
  asked = os.environ.get('JAX_PLATFORMS')
  if asked:
    print(f'gpu_check: JAX_PLATFORMS={asked}: using that, as asked.',
          file=sys.stderr)
    return exit_codes.OK
  found = probe()
  if 'error' in found:
    print(f'error: this image trains on GPUs, but JAX found none '
          f'({found["error"]}). Run it on a machine with an NVIDIA driver '
          'and GPUs passed in (docker run --gpus all, with the NVIDIA '
          'Container Toolkit; README, "GPUs"), or set JAX_PLATFORMS=cpu to '
          'train on CPU on purpose.', file=sys.stderr)
    return exit_codes.INFRASTRUCTURE
  print(f'gpu_check: {found["count"]} x {found["kind"]}', file=sys.stderr)
  return exit_codes.OK


if __name__ == '__main__':
  if sys.argv[1:] == ['--probe']:
    print(json.dumps(_probe()))
    sys.exit(0)
  sys.exit(check())
