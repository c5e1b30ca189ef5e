"""One writer per experiment: a lock file naming its owner (host, pid, age).

A second study (or run) on the same ``<experiment_dir>/<name>`` refuses
instead of interleaving its trials with the first one's. The lock is a plain
file created with O_EXCL, so it also works on shared file systems; a lock
whose process is gone (a killed study on this host) is reported as stale
with the command that removes it -- it is never taken over silently.
"""

import contextlib
import json
import os
import pathlib
import platform
import sys
import time

from algoperf.errors import AlgoperfError

LOCK_FILE = '.lock'


class ExperimentLockedError(AlgoperfError):
  """Another study holds (or held, if stale) the experiment's lock."""


def pid_alive(pid: int) -> bool:
  try:
    os.kill(pid, 0)
  except ProcessLookupError:
    return False
  except PermissionError:
    return True
  return True


def _refusal(path: pathlib.Path) -> str:
  try:
    owner = json.loads(path.read_text())
  except (OSError, json.JSONDecodeError):
    owner = {}
  host, pid = owner.get('host', '?'), owner.get('pid', '?')
  age = time.time() - owner.get('started', time.time())
  command = owner.get('command', '')
  if host == platform.node() and isinstance(pid, int) and not pid_alive(pid):
    return (f'{path}: stale lock left by process {pid} on this host '
            f'({age:.0f} s ago: {command}), which is no longer running. '
            f'If no other study writes this experiment, remove it with '
            f'`rm {path}` and rerun to resume.')
  return (f'{path}: this experiment is being written by process {pid} on '
          f'host {host} (locked {age:.0f} s ago: {command}). Wait for it to '
          'finish, or choose another --name or --experiment-dir.')


@contextlib.contextmanager
def experiment_lock(directory):
  """Holds ``directory``'s lock for the block; raises ExperimentLockedError.

  Example:
    >>> with experiment_lock('/tmp/exp/my_study'):
    ...   pass  # run the trials
  """
  directory = pathlib.Path(directory)
  directory.mkdir(parents=True, exist_ok=True)
  path = directory / LOCK_FILE
  try:
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
  except FileExistsError:
    raise ExperimentLockedError(_refusal(path)) from None
  with os.fdopen(fd, 'w') as f:
    json.dump({'host': platform.node(), 'pid': os.getpid(),
               'started': time.time(), 'command': ' '.join(sys.argv)}, f)
  try:
    yield path
  finally:
    path.unlink(missing_ok=True)
