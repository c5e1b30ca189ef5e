"""One writer per experiment: every verb that writes trials takes this lock.

``<experiment_dir>/<name>/.algoperf/lock`` is an OS lock (``filelock``:
``flock`` on POSIX), so the kernel releases it when its process dies, however
it dies; ``lock.owner.json`` beside it names the holder (host, PID, start,
command). A lock that can be taken while the owner file names another
process was left by a process that died: it is taken over and the takeover
reported (``recovered`` says by whom). A lock that is held is refused with
the owner's host, PID and age. `algoperf run`, `algoperf study`, target
setting and the reference leaderboard all write through ``run_trials``,
which holds it.
"""

import contextlib
import dataclasses
import json
import os
import pathlib
import platform
import sys
import time

import filelock

from algoperf.errors import AlgoperfError
from algoperf.records import HARNESS_DIR

LOCK_FILE = f'{HARNESS_DIR}/lock'
OWNER_FILE = f'{HARNESS_DIR}/lock.owner.json'


class ExperimentLockedError(AlgoperfError):
  """Another process holds the experiment's lock."""


@dataclasses.dataclass(frozen=True)
class Held:
  """The lock while held; ``recovered`` describes a dead owner taken over."""

  path: pathlib.Path
  recovered: str | None = None


def pid_alive(pid: int) -> bool:
  try:
    os.kill(pid, 0)
  except ProcessLookupError:
    return False
  except PermissionError:
    return True
  return True


def _owner(path: pathlib.Path) -> dict:
  try:
    owner = json.loads(path.read_text())
  except (OSError, ValueError):
    return {}
  return owner if isinstance(owner, dict) else {}


def _describe(owner: dict) -> str:
  age = time.time() - owner.get('started', time.time())
  return (f'process {owner.get("pid", "?")} on host '
          f'{owner.get("host", "?")}, locked {age:.0f} s ago: '
          f'{owner.get("command", "?")}')


def _refusal(directory: pathlib.Path, owner: dict) -> str:
  who = _describe(owner) if owner else 'a process that is starting'
  return (f'{directory / LOCK_FILE}: this experiment is being written by '
          f'{who}. Wait for it to finish, or choose another --name or '
          '--experiment-dir.')


def _recovery(directory: pathlib.Path, owner: dict) -> str | None:
  """A note when the free lock names another process (which died)."""
  if not owner or (owner.get('host') == platform.node()
                   and owner.get('pid') == os.getpid()):
    return None
  return (f'{directory / LOCK_FILE}: recovered the lock left by '
          f'{_describe(owner)}; that process is gone (its lock was '
          'released by the system), so the experiment resumes here.')


@contextlib.contextmanager
def experiment_lock(directory, announce=None):
  """Holds ``directory``'s lock for the block; yields a ``Held``.

  ``announce(text)`` is called with the recovery note, if any (default:
  printed to stderr).

  Raises:
    ExperimentLockedError: another live process holds it.

  Example:
    >>> with experiment_lock('/tmp/exp/my_study'):
    ...   pass  # run the trials
  """
  directory = pathlib.Path(directory)
  (directory / HARNESS_DIR).mkdir(parents=True, exist_ok=True)
  owner_path = directory / OWNER_FILE
  lock = filelock.FileLock(directory / LOCK_FILE, timeout=0,
                           thread_local=False)
  try:
    lock.acquire()
  except filelock.Timeout:
    raise ExperimentLockedError(_refusal(directory,
                                         _owner(owner_path))) from None
  try:
    recovered = _recovery(directory, _owner(owner_path))
    _write_owner(owner_path)
    if recovered:
      (announce or _to_stderr)(recovered)
    yield Held(directory / LOCK_FILE, recovered)
  finally:
    owner_path.unlink(missing_ok=True)
    lock.release()


def _write_owner(path: pathlib.Path) -> None:
  from algoperf import records

  records.write_json(path, {'host': platform.node(), 'pid': os.getpid(),
                            'started': time.time(),
                            'command': ' '.join(sys.argv)})


def _to_stderr(text: str) -> None:
  print(f'note: {text}', file=sys.stderr)
