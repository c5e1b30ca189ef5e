"""What a trial's process is doing, shared with its supervisor through mmap.

The child writes a few numbers (no system call: a store into a shared
page) when a submission call starts, when an eval starts and at every clock
charge; the supervisor reads them a few times a second to tell how much
submission time the trial has used, including a call that has not returned.
Times are ``time.monotonic()``, one clock for every process of the machine.
"""

import mmap
import os
import pathlib
import struct
import time

# Phases: what runs now.
IDLE, SUBMISSION, HARNESS = 0, 1, 2
# The submission's functions, by number (0: none yet).
CALLS = ('', 'get_batch_size', 'init_optimizer_state', 'data_selection',
         'update_params', 'prepare_for_eval', '<import>')
# phase, phase start, last charge, submission total at it, clock started,
# budget, call number, global step.
_FORMAT = '8d'
SIZE = struct.calcsize(_FORMAT)


class Heartbeat:
  """One trial's shared record; ``writer`` in the child, reader in the parent.

  Attributes:
    phase: IDLE, SUBMISSION or HARNESS.
    phase_start, last_charge: monotonic times.
    submission_total: accumulated submission time at ``last_charge``.
    clock_started: whether the trial's clock runs (submission time counts).
    budget: seconds of submission time the trial may use.
    call: index into CALLS of the last submission call entered.
    step: the global step of that call (-1: not a step).
  """

  def __init__(self, path, create: bool = False):
    self.path = pathlib.Path(path)
    if create:
      self.path.write_bytes(bytes(SIZE))
    fd = os.open(self.path, os.O_RDWR)
    try:
      self._map = mmap.mmap(fd, SIZE)
    finally:
      os.close(fd)
    self._values = list(struct.unpack_from(_FORMAT, self._map))

  def _publish(self) -> None:
    # One copy of packed bytes, never struct.pack_into on the map: that
    # zero-fills the record before writing its fields, and a supervisor
    # reading in between saw a running call with budget 0 and killed a
    # healthy trial (seen once in 32 tuning runs under load).
    self._map[:SIZE] = struct.pack(_FORMAT, *self._values)

  # The child's side.
  def set_budget(self, budget: float) -> None:
    self._values[5] = budget
    self._publish()

  def enter_call(self, name: str, step: int = -1) -> None:
    self._values[0:2] = (SUBMISSION, time.monotonic())
    self._values[6:8] = (CALLS.index(name), step)
    self._publish()

  def leave_call(self) -> None:
    """Before the clock runs, what follows a call is harness set-up (model
    init, data); once it runs, the call's device work and the clock charge
    that waits for it are still the submission's, so nothing changes."""
    if not self._values[4]:
      self._values[0:2] = (IDLE, time.monotonic())
      self._publish()

  def enter_harness(self) -> None:
    self._values[0:2] = (HARNESS, time.monotonic())
    self._publish()

  def on_charge(self, accumulator, totals: dict) -> None:
    """A ``clock.observe`` callback: the clock's totals, now."""
    from algoperf import clock

    now = time.monotonic()
    self._values[2] = now
    self._values[3] = totals[clock.SUBMISSION]
    if accumulator is None:
      self._values[4] = 1.0
    elif accumulator != clock.SUBMISSION:
      # A harness segment (eval, logging, checkpoint) just ended: until the
      # next submission call, nothing the submission runs is in flight. So
      # the trial's last charge (logging, at the loop's end) stops the live
      # estimate, which otherwise grew through the writes and exit after
      # it, toward the supervisor's budget + grace kill.
      self._values[0:2] = (IDLE, now)
    self._publish()

  # The supervisor's side.
  def read(self) -> dict:
    phase, start, charge, total, started, budget, call, step = (
      struct.unpack_from(_FORMAT, self._map))
    return {'phase': int(phase), 'phase_start': start, 'last_charge': charge,
            'submission_total': total, 'clock_started': bool(started),
            'budget': budget, 'call': CALLS[int(call)], 'step': int(step)}

  def close(self) -> None:
    self._map.close()


def submission_time_now(state: dict, now: float) -> float | None:
  """Submission time used by now, counting a call still running; None when
  the trial is in harness work (evals, checkpoints) or has not started."""
  if state['phase'] != SUBMISSION:
    return None
  if not state['clock_started']:  # Before the clock: the call alone.
    return now - state['phase_start']
  return state['submission_total'] + now - state['last_charge']


def where(state: dict) -> str:
  """'update_params at step 12', for messages."""
  if not state['call']:
    return 'setup'
  step = f' at step {state["step"]}' if state['step'] >= 0 else ''
  return f'{state["call"]}{step}'
