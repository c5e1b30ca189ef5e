"""Which GPUs a trial may use when several run at once (pool and Ray).

JAX sees every GPU the process can see and preallocates 75% of each one's
memory at its first operation, so two trials on one machine would both
grab GPU 0 and the second would run out of memory. Each trial's process
therefore gets its own ``CUDA_VISIBLE_DEVICES`` (whole GPUs per trial) or,
when trials share a GPU (``--num-gpus-per-trial 0.5``), a memory fraction
no larger than its share (``XLA_PYTHON_CLIENT_MEM_FRACTION``). A trial
asking for no GPU sees none.

The pool backend hands out the host's GPUs here (``GpuSlots``); Ray picks
them itself and this module only turns Ray's choice into the same
environment (``trial_env``). No JAX import: it runs before JAX is set up.
"""

import math
import os
import shutil
import subprocess
import threading

from algoperf.errors import AlgoperfError

# Of a shared GPU's memory, what the trials' fractions add up to at most;
# the rest is for the CUDA contexts of the processes sharing it.
SHARED_MEMORY = 0.9


def host_gpus(environ=None) -> list[str]:
  """The GPUs this process may use, as ``CUDA_VISIBLE_DEVICES`` names them.

  ``CUDA_VISIBLE_DEVICES`` when set (so a user's or a scheduler's choice is
  kept); else the indices ``nvidia-smi`` lists; else none.
  """
  environ = os.environ if environ is None else environ
  visible = environ.get('CUDA_VISIBLE_DEVICES')
  if visible is not None:
    return parse_devices(visible)
  smi = shutil.which('nvidia-smi')
  if smi is None:
    return []
  try:
    out = subprocess.run([smi, '--query-gpu=index', '--format=csv,noheader'],
                         capture_output=True, text=True, timeout=30)
  except (OSError, subprocess.TimeoutExpired):
    return []
  if out.returncode != 0:
    return []
  return [line.strip() for line in out.stdout.splitlines() if line.strip()]


def parse_devices(visible: str) -> list[str]:
  """``'0,1'`` -> ``['0', '1']``; ``''`` and ``'-1'`` (none) -> ``[]``."""
  names = [d.strip() for d in visible.split(',') if d.strip()]
  return [] if names in ([], ['-1']) else names


def trial_env(devices, num_gpus: float) -> dict[str, str]:
  """The environment of a trial given ``devices`` for ``num_gpus`` GPUs.

  Whole GPUs: only those are visible, and JAX's default preallocation
  stays within them. A share of one GPU: that GPU, and a memory fraction
  of at most the share. No GPU: none visible.
  """
  env = {'CUDA_VISIBLE_DEVICES': ','.join(str(d) for d in devices)}
  if 0 < num_gpus < 1:
    env['XLA_PYTHON_CLIENT_MEM_FRACTION'] = (
      f'{math.floor(num_gpus * SHARED_MEMORY * 1000) / 1000:.3f}')
  return env


def check_request(num_gpus: float) -> None:
  if num_gpus < 0 or (num_gpus > 1 and num_gpus != int(num_gpus)):
    raise AlgoperfError(
      f'--num-gpus-per-trial {num_gpus:g}: use 0, a share of one GPU '
      '(0.5, 0.25, ...) or a whole number of GPUs.')


class GpuSlots:
  """Hands each trial of a pool its own GPUs; thread-safe.

  ``num_gpus`` per trial: 0 (no GPU), a share of one GPU (``1 // share``
  trials per GPU) or a whole number of GPUs (that many, each to one
  trial). ``capacity`` is how many trials can hold GPUs at once; the pool
  runs no more than that, so ``acquire`` only waits if it is misused.
  """

  def __init__(self, devices, num_gpus: float, environ=None):
    check_request(num_gpus)
    self.num_gpus = num_gpus
    self._free = {}  # Device -> free slots on it.
    devices = list(devices)
    environ = os.environ if environ is None else environ
    if num_gpus == 0:
      # Trials that silently train on the CPU of a GPU machine would waste
      # the budget; the CPU has to be asked for.
      if devices and not environ.get('JAX_PLATFORMS'):
        raise AlgoperfError(
          f'this machine has GPUs ({",".join(devices)}) but '
          '--num-gpus-per-trial is 0, so the trials would run on the CPU; '
          'give each trial GPUs (--num-gpus-per-trial 1) or choose the CPU '
          'on purpose (JAX_PLATFORMS=cpu).')
      self.capacity = None  # Unlimited: no GPU to share.
      return
    if not devices:
      raise AlgoperfError(
        f'--num-gpus-per-trial {num_gpus:g} but this machine shows no GPU '
        '(CUDA_VISIBLE_DEVICES, nvidia-smi); check the driver (README, '
        '"GPUs") or run without --num-gpus-per-trial.')
    if num_gpus < 1:
      per_device = int(1 // num_gpus)
      self._free = {d: per_device for d in devices}
      self.capacity = per_device * len(devices)
    else:
      if num_gpus > len(devices):
        raise AlgoperfError(
          f'--num-gpus-per-trial {num_gpus:g} but this machine shows '
          f'{len(devices)} GPU(s) ({",".join(devices)}); ask for at most '
          f'{len(devices)}.')
      self._free = {d: 1 for d in devices}
      self.capacity = len(devices) // int(num_gpus)
    self._changed = threading.Condition()

  def acquire(self) -> list[str]:
    """GPUs for one trial (waits while all are taken)."""
    if self.num_gpus == 0:
      return []
    want = 1 if self.num_gpus < 1 else int(self.num_gpus)
    with self._changed:
      while True:
        free = [d for d, n in self._free.items() if n > 0]
        if len(free) >= want:
          # Shares go to the emptiest GPU, so trials spread out.
          free.sort(key=lambda d: -self._free[d])
          taken = free[:want]
          for d in taken:
            self._free[d] -= 1
          return taken
        self._changed.wait()

  def release(self, devices) -> None:
    if self.num_gpus == 0:
      return
    with self._changed:
      for d in devices:
        self._free[d] += 1
      self._changed.notify_all()
