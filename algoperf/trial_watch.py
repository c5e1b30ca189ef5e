"""`algoperf run`'s progress of one trial, drawn by the supervisor.

The supervisor reads the child's heartbeat ten times a second to enforce
the budget; it hands each reading to a ``TrialWatch``, which also rereads
status.json when an eval rewrote it. So the display costs the training
loop nothing, and it can say what the child is doing between evals:
starting, compiling the first step, training, evaluating.
"""

import math

from algoperf import live_state
from algoperf import records
from algoperf import study_status
from algoperf import trial_table

# What the child does before its clock starts, by the last submission
# call it entered and whether that call is still running.
_IN_CALL = {'<import>': 'importing the submission',
            'get_batch_size': 'get_batch_size',
            'init_optimizer_state': 'init_optimizer_state'}
_AFTER_CALL = {'': 'importing JAX, loading the workload',
               '<import>': 'loading the workload',
               'get_batch_size': 'loading data, building the model',
               'init_optimizer_state': 'preparing the training loop'}
WARMING_UP = 'warming up'
# Seconds between rereads of status.json (a stat each poll otherwise).
_STATUS_EVERY = 0.5


class TrialWatch:
  """Called with each heartbeat reading; updates a ``progress.Task``."""

  def __init__(self, job, task):
    self.task = task
    self.status_path = job.trial_dir / records.STATUS
    self.status: dict = {}
    self.first_step: int | None = None
    self.phase: str | None = None
    self.compile_start: float | None = None
    self.used: float | None = None
    self.budget: float | None = None
    self._mtime = None
    self._read_at = -math.inf
    task.numbers_fn = self.numbers

  def __call__(self, state: dict) -> None:
    self._read_status()
    self.budget = state['budget'] or None
    self.task.total = self.budget
    self._note_first_step(state)
    live = live_state.now(state, self.first_step, same_host=True)
    self.used = live.used
    new_phase = self._is_new_phase(live.phase)
    text, detail = self._describe(live)
    completed = live.used if live.used is not None else 0.0
    if new_phase:
      self.task.phase(text, completed, detail)
    else:
      self.task.update(completed, detail, text)

  def warming_up(self) -> None:
    """The warm-up process that runs before the timed one (supervisor.py):
    a phase of its own, so that its seconds do not look like a hang."""
    self.phase = WARMING_UP
    self.task.phase(WARMING_UP, None, 'compiling the first steps on random '
                    'data into the trial\'s cache (off the clock)')

  def finish(self) -> None:
    """The trial's end, as status.json has it (a line in a log)."""
    self._read_at = -math.inf
    self._read_status()
    state = self.status.get('status')
    if state and state != records.RUNNING:
      row = study_status.row_of(self.status)
      # The clock's own total, not the last live estimate from the
      # heartbeat (which can run past it once the last step is done).
      used = (self.status.get('accumulators') or {}).get(
        'accumulated_submission_time')
      if isinstance(used, (int, float)):
        self.used = used
      self.task.phase(f'ended: {state}', completed=self.used, detail=(
        f'step {row["step"]}, best {trial_table.best_text(row)} (target '
        f'{trial_table.target_text(row)})'))

  def _note_first_step(self, state: dict) -> None:
    """The step this attempt compiles at: 0, or a resumed trial's first."""
    if self.first_step is not None or not state['clock_started']:
      return
    if not self.status.get('resumed'):
      self.first_step = 0
    elif state['call'] in live_state.STEP_CALLS and state['step'] >= 0:
      self.first_step = state['step']

  def _is_new_phase(self, phase: str) -> bool:
    """A line in a log for starting, compiling and the end of compiling;
    training and evaluating alternate at every eval and are updates."""
    before, self.phase = self.phase, phase
    if phase == live_state.COMPILING and before != phase:
      self.compile_start = self.task.elapsed()
    steady = (live_state.TRAINING, live_state.EVALUATING)
    return before != phase and not (before in steady and phase in steady)

  def _describe(self, live) -> tuple[str, str]:
    if live.phase == live_state.STARTING:
      table = _IN_CALL if live.in_call else _AFTER_CALL
      return 'starting', table.get(live.call, live.call)
    if live.phase == live_state.COMPILING:
      since = self.task.elapsed() - (self.compile_start or 0.0)
      return ('compiling', f'the first step, {live.call} at step '
              f'{live.step}: {since:.0f} s so far (on the clock)')
    if live.phase == live_state.EVALUATING and not self.status.get(
        'last_eval'):
      return 'first eval', 'compiling the eval step (off the clock)'
    return live.phase, self._metrics(live.step)

  def _metrics(self, step) -> str:
    row = study_status.row_of(self.status)
    parts = [f'step {step if step is not None else row["step"]}']
    metric = (row.get('metric') or '').split('/', 1)[-1]
    if row.get('last') is not None:
      best = trial_table.best_text(row)
      # The eval's own step: the live one above has moved on since.
      parts.append(f'{metric} {row["last"]:.4f} @ {row["step"]} (best '
                   f'{best}, target {trial_table.target_text(row)})')
    else:
      parts.append(f'no eval yet (target {metric} '
                   f'{trial_table.target_text(row)})')
    return ' · '.join(parts)

  def numbers(self) -> list[str]:
    used = '-' if self.used is None else f'{self.used:.1f}'
    budget = '-' if self.budget is None else f'{self.budget:.0f}'
    parts = [f'{used}/{budget} s']
    # None once status.json says the trial ended.
    eta = study_status.eta(self.status, self.status.get(
      'status', records.RUNNING), self.used)
    if eta is not None:
      parts.append(f'ETA ≤{trial_table.seconds(eta)}')
    return parts

  def _read_status(self) -> None:
    now = self.task.elapsed()
    if now - self._read_at < _STATUS_EVERY:
      return
    self._read_at = now
    try:
      mtime = self.status_path.stat().st_mtime_ns
      if mtime != self._mtime:
        self.status, self._mtime = records.read_json(self.status_path), mtime
    except (OSError, ValueError):
      pass  # Not written yet, or being replaced: the next poll reads it.
