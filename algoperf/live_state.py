"""What a running trial is doing now, from the files it already writes.

The trial's process publishes its heartbeat (``heartbeat.py``: the call it
is in, its step, the clock) for its supervisor; displays read the same file
a few times a second, so they add no work to the training loop. The phases
a person sees:

- ``starting``: before the clock runs (importing the submission, building
  the model, loading data, ``init_optimizer_state``);
- ``compiling``: the first step of this attempt has not returned yet -- JAX
  traces and compiles ``update_params`` (and the data pipeline) there, on
  the clock, and it can take longer than the rest of a short trial;
- ``training``: later steps;
- ``evaluating``: an eval, off the clock (the first one compiles the eval
  step).
"""

import dataclasses
import pathlib
import platform

STARTING = 'starting'
COMPILING = 'compiling'
TRAINING = 'training'
EVALUATING = 'evaluating'
STEP_CALLS = ('data_selection', 'update_params')


def heartbeat_path(experiment: pathlib.Path, study, workload: str,
                   trial) -> pathlib.Path:
  """Where the supervisor keeps a trial's heartbeat (supervisor.py)."""
  from algoperf import supervisor

  return supervisor.trial_scratch(experiment, study, workload,
                                  trial) / 'heartbeat'


def read_heartbeat(path: pathlib.Path) -> dict | None:
  """The heartbeat's fields, or None when there is none to read."""
  from algoperf import heartbeat

  try:
    beat = heartbeat.Heartbeat(path)
  except (OSError, ValueError):
    return None
  try:
    return beat.read()
  finally:
    beat.close()


def phase(state: dict, first_step: int | None) -> str:
  """The phase of ``state``; ``first_step``: the step this attempt started
  at (0 for a fresh trial; None when unknown: no compiling phase)."""
  from algoperf import heartbeat

  if not state['clock_started']:
    return STARTING
  if state['phase'] == heartbeat.HARNESS:
    return EVALUATING
  if state['call'] in STEP_CALLS and first_step is not None and (
      state['step'] <= first_step):
    return COMPILING
  return TRAINING


@dataclasses.dataclass(frozen=True)
class Live:
  """A running trial now: phase, steps done (global_step's count), the
  submission time used (None when it cannot be known here: another
  machine's clock, or harness work)."""

  phase: str
  step: int | None
  used: float | None
  call: str  # The last submission call entered ('' before any).
  in_call: bool  # Whether that call is still running.


def now(state: dict, first_step: int | None, same_host: bool) -> Live:
  import time

  from algoperf import heartbeat

  used = heartbeat.submission_time_now(state, time.monotonic()) if (
    same_host and state['clock_started']) else None
  if used is None and state['clock_started'] and same_host:
    used = state['submission_total']  # In an eval: the clock is stopped.
  in_call = state['phase'] == heartbeat.SUBMISSION
  step = state['step'] if state['step'] >= 0 else None
  if step is not None and state['call'] == 'update_params' and not in_call:
    step += 1  # Steps done, as global_step counts them: that one returned.
  return Live(phase(state, first_step), step, used, state['call'], in_call)


def is_this_host(status: dict) -> bool:
  return status.get('host') in (None, platform.node())
