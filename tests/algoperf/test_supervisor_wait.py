"""The supervisor's hang detection (``supervisor._wait``) on a real child
process and scripted heartbeat readings."""

import subprocess
import time

from algoperf import heartbeat
from algoperf import supervisor

BUDGET = 10.0


def _reading(used: float) -> dict:
  """A call running with ``used`` seconds of submission time now."""
  return {'phase': heartbeat.SUBMISSION, 'phase_start': time.monotonic(),
          'last_charge': time.monotonic() - used, 'submission_total': 0.0,
          'clock_started': True, 'budget': BUDGET, 'call': 'update_params',
          'step': 7}


class _Scripted:
  """A heartbeat whose readings follow ``script`` (the last one repeats)."""

  def __init__(self, script):
    self._script = list(script)

  def read(self) -> dict:
    used = self._script.pop(0) if len(self._script) > 1 else self._script[0]
    return _reading(used)


def _child(seconds: float) -> subprocess.Popen:
  return subprocess.Popen(['sleep', str(seconds)], start_new_session=True)


def test_one_overdue_reading_is_not_a_hang():
  child = _child(0.6)
  assert supervisor._wait(child, _Scripted([1.0, 99.0, 1.0]), 5.0) is None
  assert child.returncode == 0  # It ran to its end.


def test_a_call_overdue_at_two_readings_is_killed():
  child = _child(30)
  started = time.monotonic()
  hung = supervisor._wait(child, _Scripted([1.0, 99.0]), 5.0)
  assert hung is not None and hung['used'] > BUDGET + 5.0
  assert heartbeat.where(hung) == 'update_params at step 7'
  assert child.returncode is not None and child.returncode < 0  # Killed.
  assert time.monotonic() - started < 10
