"""Train one trial under the clock rules of docs/design.md §6.

``run_trial(workload, submission, config)`` trains until the validation (and
test) target is reached, the budget is spent, the submission raises
``TrainingCompleteError``, ``max_steps`` is hit, or the loss stops being
finite, and writes the trial's files (see ``records``).
"""

import dataclasses
import functools
import math
import time
import traceback
from collections.abc import Callable

import jax
from absl import logging

from algoperf import clock as clock_lib
from algoperf import compilation
from algoperf import contention
from algoperf import records
from algoperf import registry
from algoperf import spec
from algoperf import submission_calls as calls_lib
from algoperf import trial_checkpoint
from algoperf import trial_io
from algoperf import tuning
from algoperf.errors import SubmissionError
from algoperf.step_keys import RNG_CHUNK as _RNG_CHUNK
from algoperf.step_keys import StepKeys

_SUB = clock_lib.SUBMISSION
_EVAL = clock_lib.EVAL
_LOG = clock_lib.LOGGING


@dataclasses.dataclass(frozen=True)
class RunConfig:
  """Everything that defines one trial (flags are parsed in cli only)."""

  experiment_dir: str
  experiment_name: str
  rng_seed: int = 0
  study: int = 0
  trial: int = 1
  hyperparameters: dict | None = None  # None: self-tuning.
  ruleset: str = 'external'
  budget_multiplier: float = 1.0
  data_dir: str | None = None
  max_steps: int | None = None
  progress: bool = True
  # Evaluate every N steps: overrides the workload's eval_every_steps fact
  # (target setting evaluates each run 25 times over its horizon).
  eval_every_steps: int | None = None
  # AlgoPerf's schedule, every eval_period_time_sec of submission time,
  # even for a workload that states eval_every_steps (docs/design.md §6).
  time_based_evals: bool = False
  # Checkpoint at the first eval at least this many wall-clock seconds after
  # the previous checkpoint (0: at every eval; None: never). Off the clock.
  checkpoint_every_sec: float | None = 30.0
  # Stop once the validation and test targets are met (AlgoPerf). Target
  # setting (scripts/set_targets.py) trains to its horizon instead: there is
  # no target yet, only the provisional one.
  stop_at_target: bool = True
  # Recorded in flags_<n>.json: where the hyperparameters came from.
  search_space: str | None = None
  search_seed: int | None = None
  # A tuner's generation boundary (population-based training, algoperf/
  # pbt.py): at the first eval at or past this step the trial checkpoints
  # and returns with status 'paused', its status.json still 'running'; the
  # next attempt resumes from that checkpoint. Needs checkpoint_every_sec.
  pause_at_step: int | None = None
  # The splits every eval reads (of spec.EVAL_SPLITS); None: all three, or
  # the suite's test rule (``eval_plan``). Target-setting tuning runs read
  # no test split: their winner is chosen on validation alone.
  eval_splits: tuple | None = None
  # Read test at every eval in a call of its own, timed apart (status.json
  # ``test_eval_seconds``): the target-setting seed reruns, whose train and
  # validation passes are what a scored run pays at every eval.
  separate_test_eval: bool = False


@dataclasses.dataclass
class TrialResult:
  status: str
  message: str
  global_step: int
  accumulated_submission_time: float
  num_evals: int
  trial_dir: str
  last_eval: dict
  clock_check: dict


@dataclasses.dataclass(frozen=True)
class GoalEvals:
  """Indices of the first evals that met each target (None: not yet)."""

  validation: int | None = None
  test: int | None = None

  @property
  def both(self) -> bool:
    return self.validation is not None and self.test is not None


def goal_evals(workload, eval_rows: list) -> GoalEvals:
  """Which of ``eval_rows`` first met the validation and the test target.

  An eval that did not read a split (``eval_plan``) meets no target on it.
  """
  metric = workload.target_metric_name
  validation = next((i for i, row in enumerate(eval_rows)
                     if f'validation/{metric}' in row
                     and workload.has_reached_validation_target(row)), None)
  test = next((i for i, row in enumerate(eval_rows)
               if f'test/{metric}' in row
               and workload.has_reached_test_target(row)), None)
  return GoalEvals(validation, test)


@dataclasses.dataclass
class _Loop:
  """Mutable per-trial state the loop carries between steps."""

  params: object
  model_state: object
  optimizer_state: object
  global_step: int = 0
  last_eval_submission_time: float = -math.inf
  last_eval_step: float = -math.inf
  last_checkpoint_wall: float = 0.0
  eval_results: list = dataclasses.field(default_factory=list)
  eval_rows: list = dataclasses.field(default_factory=list)
  status: str | None = None
  message: str = ''
  preemption_count: int = 0
  # The part of the eval clock spent on test passes made in a call of
  # their own (``EvalPlan``), every attempt; a part of accumulated_eval_time.
  test_eval_seconds: float = 0.0
  # The evals (indices into eval_rows) that first met the validation and
  # the test target. Like AlgoPerf's runner, a target once met stays met.
  goals: GoalEvals = GoalEvals()


def run_trial(
  workload,
  submission,
  config: RunConfig,
  time_fn: Callable[[], float] = None,
  on_eval: Callable[[dict], None] | None = None,
  notes: dict | None = None,
) -> TrialResult:
  """Trains one trial; returns its outcome. Files go to the trial dir.

  ``notes`` go into every status.json write (the supervisor's warm-up).

  Raises:
    SubmissionError: the submission broke the API or raised; the status
      file records it and earlier trials' files are untouched.
    DataError: the workload's data is not prepared (before any file).
  """
  writer = trial_io.TrialWriter.create(workload, submission, config)
  hyperparameters = tuning.make_hyperparameters(
    config.hyperparameters, config.search_space or 'the search space')
  calls = calls_lib.SubmissionCalls.create(submission, workload,
                                           hyperparameters, config.data_dir)
  batch_size, problems = _call(submission, calls.get_batch_size,
                               len(jax.devices()))
  _raise_problems(problems)
  saved = trial_checkpoint.load_latest(writer.directory)
  rng = jax.random.PRNGKey(config.rng_seed)
  data_rng, opt_init_rng, model_init_rng, rng = jax.random.split(rng, 4)
  input_queue = _input_queue(workload, data_rng, config, batch_size,
                             saved['input_position'] if saved else 0)
  workload.attach_metrics_logger(writer.metrics_logger)
  params, model_state = workload.init_model_fn(model_init_rng)
  expected = (calls_lib.tree_signature(params),
              calls_lib.tree_signature(model_state))
  budget = workload.max_allowed_runtime_sec * config.budget_multiplier
  writer.start(batch_size, resumed=saved is not None,
               info={**_status_info(workload, budget, config),
                     **(notes or {})})
  try:
    optimizer_state = _call(submission, calls.init_optimizer_state, params,
                            model_state, opt_init_rng)
  except SubmissionError as e:
    writer.record_error(str(e), traceback.format_exc(), None)
    raise
  loop = _Loop(params, model_state, optimizer_state,
               preemption_count=writer.run_index)
  clock = clock_lib.Clock(time_fn or clock_lib.Clock.time_fn)
  if saved is not None:
    trial_checkpoint.restore(writer.directory, saved, loop, clock.totals,
                             writer.metrics_logger)
  loop.goals = goal_evals(workload, loop.eval_rows)
  train_state = functools.partial(_train_state_view, clock, loop, budget)
  compiles = compilation.CompileLog()
  step_keys = StepKeys(rng)
  with compilation.recording(compiles):
    step_keys.for_step(loop.global_step)  # Compile before the clock runs.
    clock_lib.done_marker(loop.params)  # Likewise.
    context = _Context(workload, submission, config, writer, calls, expected,
                       input_queue, clock, budget, on_eval, train_state,
                       eval_every_steps(workload, config),
                       eval_plan(workload, config), compiles,
                       contention.sample())
    loop.last_checkpoint_wall = time.monotonic()
    clock.start()
    compiles.phase = _SUB
    try:
      while loop.status is None:
        _train_step(context, loop, step_keys)
    except SubmissionError as e:
      writer.record_error(str(e), traceback.format_exc(), loop)
      raise
    finally:
      getattr(input_queue, 'close', lambda: None)()
  if loop.status == records.PAUSED:  # Kept resumable: no finish, no cleanup.
    clock.charge(_LOG)
    return TrialResult(
      status=loop.status, message=loop.message, global_step=loop.global_step,
      accumulated_submission_time=clock.submission_time,
      num_evals=len(loop.eval_rows), trial_dir=str(writer.directory),
      last_eval=loop.eval_rows[-1] if loop.eval_rows else {},
      clock_check=clock.self_check())
  measurement = _measurement(context)
  if loop.status != records.TARGET_REACHED and (
      loop.goals.validation is not None or loop.goals.test is not None):
    loop.message += ' ' + goals_note(workload, loop.eval_rows, loop.goals) + '.'
  clock.charge(_LOG)
  check = clock.self_check()
  if not check['within_1_percent']:
    logging.warning('Clock self-check failed: %s', check)
  writer.finish(loop, clock, check, measurement)
  trial_checkpoint.remove(writer.directory)
  return TrialResult(
    status=loop.status, message=loop.message, global_step=loop.global_step,
    accumulated_submission_time=clock.submission_time,
    num_evals=len(loop.eval_rows), trial_dir=str(writer.directory),
    last_eval=loop.eval_rows[-1] if loop.eval_rows else {},
    clock_check=check)


def _input_queue(workload, data_rng, config, batch_size, position: int):
  """The training input queue, advanced to ``position`` when resuming."""
  if position == 0:
    return workload._build_input_queue(data_rng, 'train', config.data_dir,
                                       batch_size)
  return workload._build_input_queue(data_rng, 'train', config.data_dir,
                                     batch_size, start_position=position)


def eval_every_steps(workload, config: RunConfig) -> int | None:
  """The trial's step schedule of evals; None: AlgoPerf's, by time."""
  if config.eval_every_steps:
    return config.eval_every_steps
  if config.time_based_evals:
    return None
  return getattr(workload, 'eval_every_steps', None)


@dataclasses.dataclass(frozen=True)
class EvalPlan:
  """Which splits an eval reads (docs/design.md §6).

  ``splits``: read at every eval. ``test_from_validation_target``: the
  test split is read too at an eval where the validation target is met
  (this one or an earlier one) and at a trial's final eval. Scores read
  the validation split alone, and a trial stops once both targets are
  met, so this moves no time to target; it saves a test pass at every
  eval before the validation target: about half of an eval where, as on
  the CPU suite, validation and test are equal and the train subset small.
  """

  splits: tuple = spec.EVAL_SPLITS
  test_from_validation_target: bool = False
  # Test at every eval, after ``splits``, in a call of its own.
  separate_test: bool = False


def eval_plan(workload, config: RunConfig) -> EvalPlan:
  """The trial's ``EvalPlan``: ``config.eval_splits`` when given, else
  the suite's ``test_evals`` rule for a trial that stops at its targets
  (one that trains on past them, as target setting does, reads all)."""
  if config.eval_splits is not None:
    return EvalPlan(tuple(config.eval_splits))
  if config.separate_test_eval:
    return EvalPlan(('train', 'validation'), separate_test=True)
  facts = getattr(workload, 'facts', None)
  if (config.stop_at_target and facts is not None
      and registry.suite(facts.suite).test_evals
      == registry.TEST_FROM_VALIDATION_TARGET):
    return EvalPlan(('train', 'validation'), test_from_validation_target=True)
  return EvalPlan()


def _status_info(workload, budget: float, config: RunConfig) -> dict:
  """Facts `algoperf status` shows without importing the workload."""
  return {
    'budget': budget,
    'max_steps': config.max_steps,
    'target_metric': f'validation/{workload.target_metric_name}',
    'target_value': workload.validation_target_value,
    'metric_direction': getattr(workload, 'metric_direction', 'max'),
  }


@dataclasses.dataclass(frozen=True)
class _Context:
  workload: object
  submission: object
  config: RunConfig
  writer: object
  calls: calls_lib.SubmissionCalls
  expected: tuple  # TreeSignatures of the initial params and model state.
  input_queue: object
  clock: clock_lib.Clock
  budget: float
  on_eval: Callable | None
  train_state: Callable  # update_params' train_state, made when asked for.
  eval_every_steps: int | None  # None: every eval_period_time_sec.
  eval_plan: 'EvalPlan'
  compiles: compilation.CompileLog
  machine_start: contention.Sample  # When the clock started.


def _measurement(ctx: _Context) -> dict:
  """What this attempt measured so far: the machine and compilation."""
  return {'machine': contention.judge(ctx.machine_start, contention.sample()),
          'compilation': ctx.compiles.summary()}


def _call(submission, method, *args):
  """Runs a ``SubmissionCalls`` method; failures become a SubmissionError."""
  try:
    return method(*args)
  except spec.TrainingCompleteError:
    raise
  except Exception as e:
    where = f'{submission.path}: {method.__name__}'
    message = calls_lib.raised_message(where, e, submission.path)
    raise SubmissionError(message) from e


def _raise_problems(problems: list) -> None:
  if problems:
    raise SubmissionError('\n'.join(problems))


def _state(loop: _Loop) -> tuple:
  return loop.params, loop.model_state, loop.optimizer_state


def _train_step(ctx: _Context, loop: _Loop, step_keys: StepKeys) -> None:
  """One step, pipelined: step k is dispatched before the clock waits for
  step k-1 to finish, so the host's work for k overlaps the device's for
  k-1 (as in a bare jitted loop). Every second is still charged, to
  contiguous segments; the budget check lags one step at most, and evals
  and the end of the trial wait for everything (docs/design.md §6)."""
  if loop.global_step % _RNG_CHUNK == 0:  # A new chunk of keys: harness.
    ctx.clock.charge(_SUB, wait_for=_state(loop))
    keys = step_keys.for_step(loop.global_step)
    ctx.clock.charge(_LOG)
  else:
    keys = step_keys.for_step(loop.global_step)
  select_rng, update_rng, prep_rng, eval_rng = keys
  sub, calls = ctx.submission, ctx.calls
  # Taken before update_params may donate the previous step's outputs.
  previous_done = clock_lib.done_marker(loop.params)
  try:
    batch = _call(sub, calls.data_selection, ctx.input_queue, loop,
                  loop.global_step, select_rng)
    returned = _call(sub, calls.update_params, loop, batch, loop.eval_results,
                     loop.global_step, update_rng, ctx.train_state)
    if loop.global_step < 2:
      _raise_problems(calls_lib.check_update_return(
        f'{sub.path}: update_params', returned, *ctx.expected))
    loop.optimizer_state, loop.params, loop.model_state = returned
    ctx.clock.charge(_SUB, wait_for=previous_done)
  except spec.TrainingCompleteError:
    ctx.clock.charge(_SUB, wait_for=(loop.params, loop.model_state))
    loop.global_step += 1
    _finish_with_eval(ctx, loop, prep_rng, eval_rng,
                      records.TRAINING_COMPLETE, 'update_params raised '
                      'TrainingCompleteError.')
    return
  loop.global_step += 1
  if ctx.clock.submission_time >= ctx.budget:
    ctx.clock.charge(_SUB, wait_for=_state(loop))  # The last step's tail.
    loop.status = records.BUDGET_EXHAUSTED
    loop.message = (f'Budget of {ctx.budget:.0f} s of submission time spent '
                    f'at step {loop.global_step}; no eval after the budget.')
    return
  if ctx.config.max_steps and loop.global_step >= ctx.config.max_steps:
    _finish_with_eval(ctx, loop, prep_rng, eval_rng, records.MAX_STEPS,
                      f'Reached --max-steps {ctx.config.max_steps}.')
    return
  if _eval_due(ctx, loop):
    _eval(ctx, loop, prep_rng, eval_rng)


def _eval_due(ctx: _Context, loop: _Loop) -> bool:
  if ctx.eval_every_steps:
    return loop.global_step - loop.last_eval_step >= ctx.eval_every_steps
  since_eval = ctx.clock.submission_time - loop.last_eval_submission_time
  return since_eval >= ctx.workload.eval_period_time_sec


def _finish_with_eval(ctx, loop, prep_rng, eval_rng, status, message):
  _eval(ctx, loop, prep_rng, eval_rng, final=True)
  if loop.status is None:
    loop.status, loop.message = status, message


def _train_state_view(clock, loop, budget):
  return calls_lib.train_state_view(
    clock.totals, loop.last_eval_submission_time, budget,
    validation_goal_reached=loop.goals.validation is not None,
    test_goal_reached=loop.goals.test is not None)


def _eval(ctx: _Context, loop: _Loop, prep_rng, eval_rng,
          final: bool = False) -> None:
  """prepare_for_eval (timed), budget check, then the untimed eval."""
  sub, w = ctx.submission, ctx.workload
  ctx.clock.charge(_SUB, wait_for=_state(loop))  # The last step's tail.
  if ctx.clock.submission_time >= ctx.budget:
    loop.status = records.BUDGET_EXHAUSTED
    loop.message = (f'Budget of {ctx.budget:.0f} s of submission time spent '
                    f'at step {loop.global_step}; no eval after the budget.')
    return
  if sub.prepare_for_eval is not None:
    returned = _call(sub, ctx.calls.prepare_for_eval, loop,
                     loop.eval_results, loop.global_step, prep_rng)
    _raise_problems(calls_lib.check_update_return(
      f'{sub.path}: prepare_for_eval', returned, *ctx.expected))
    loop.optimizer_state, loop.params, loop.model_state = returned
    ctx.clock.charge(_SUB, wait_for=(loop.params, loop.model_state))
    if ctx.clock.submission_time >= ctx.budget:
      loop.status = records.BUDGET_EXHAUSTED
      loop.message = 'Budget spent in prepare_for_eval; no eval granted.'
      return
  ctx.compiles.phase = _EVAL
  results = _evaluate(ctx, loop, eval_rng, ctx.eval_plan.splits)
  if ctx.eval_plan.separate_test or (
      ctx.eval_plan.test_from_validation_target and (
        final or loop.goals.validation is not None
        or w.has_reached_validation_target(results))):
    ctx.clock.charge(_EVAL)  # Ends the segment, so the test pass is apart.
    results.update(_evaluate(ctx, loop, eval_rng, ('test',)))
    loop.test_eval_seconds += ctx.clock.charge(_EVAL)
  ctx.clock.charge(_EVAL)
  ctx.compiles.phase = _SUB
  loop.last_eval_submission_time = ctx.clock.submission_time
  loop.last_eval_step = loop.global_step
  loop.eval_results.append((loop.global_step, results))
  row = dict(results)
  row.update(_time_columns(ctx.clock, loop))
  loop.eval_rows.append(row)
  _judge(ctx, loop, results)
  ctx.writer.write_evals(loop, _measurement(ctx))
  if ctx.on_eval is not None:
    ctx.on_eval(row)
  ctx.clock.charge(_LOG)
  if loop.status is None and _checkpoint_due(ctx, loop):
    _checkpoint(ctx, loop)
  elif _pause_due(ctx, loop):
    _checkpoint(ctx, loop)  # The tuner resumes (or copies) this one.
  if _pause_due(ctx, loop):
    loop.status = records.PAUSED
    loop.message = f'Paused by the tuner at step {loop.global_step}.'


def _evaluate(ctx: _Context, loop: _Loop, eval_rng, splits: tuple) -> dict:
  """``eval_model`` on ``splits``; called as AlgoPerf calls it when they
  are all three, so a workload written to AlgoPerf's API evaluates too."""
  w = ctx.workload
  chosen = {} if splits == spec.EVAL_SPLITS else {'splits': splits}
  return w.eval_model(w.eval_batch_size, loop.params, loop.model_state,
                      eval_rng, ctx.config.data_dir, None, loop.global_step,
                      **chosen)


def _pause_due(ctx: _Context, loop: _Loop) -> bool:
  at = ctx.config.pause_at_step
  return (loop.status is None and at is not None
          and ctx.config.checkpoint_every_sec is not None
          and loop.global_step >= at)


def _checkpoint_due(ctx: _Context, loop: _Loop) -> bool:
  every = ctx.config.checkpoint_every_sec
  if every is None or getattr(ctx.input_queue, 'position', None) is None:
    return False  # Disabled, or a queue whose position cannot be restored.
  return time.monotonic() - loop.last_checkpoint_wall >= every


def _checkpoint(ctx: _Context, loop: _Loop) -> None:
  """Saves the trial off the clock; the time goes to the CHECKPOINT total.

  The accumulators committed with the checkpoint already include the time
  spent writing its arrays, so a resumed trial accounts for it too.
  """

  def charge_arrays_time() -> dict:
    ctx.clock.charge(clock_lib.CHECKPOINT)
    return dict(ctx.clock.totals)

  trial_checkpoint.save(ctx.writer.directory, loop, charge_arrays_time,
                        ctx.input_queue.position, ctx.writer.metrics_logger)
  ctx.clock.charge(clock_lib.CHECKPOINT)
  loop.last_checkpoint_wall = time.monotonic()


def _time_columns(clock, loop) -> dict:
  totals = clock.totals
  return {
    'accumulated_submission_time': totals[_SUB],
    'accumulated_eval_time': totals[_EVAL],
    'accumulated_logging_time': totals[_LOG],
    'accumulated_checkpoint_time': totals[clock_lib.CHECKPOINT],
    'score': totals[_SUB],
    'total_duration': sum(totals.values()),
    'global_step': loop.global_step,
    'preemption_count': loop.preemption_count,
  }


def _judge(ctx, loop, results) -> None:
  losses = [v for k, v in results.items() if k.endswith('/loss')]
  if any(not math.isfinite(v) for v in losses):
    loop.status = records.DIVERGED
    loop.message = (f'Non-finite loss at step {loop.global_step}: '
                    + ', '.join(f'{k}={v}' for k, v in results.items()
                                if k.endswith('/loss')))
    return
  loop.goals = goal_evals(ctx.workload, loop.eval_rows)
  if loop.goals.both and ctx.config.stop_at_target:
    loop.status = records.TARGET_REACHED
    loop.message = target_message(ctx.workload, loop.eval_rows, loop.goals,
                                  ctx.clock.submission_time)


def target_message(workload, eval_rows: list, goals: GoalEvals,
                   submission_time: float) -> str:
  """Which eval met which target, and when both had been met."""
  last = eval_rows[max(goals.validation, goals.test)]
  return (f'{goals_note(workload, eval_rows, goals)}; both targets met by '
          f'step {last["global_step"]}, after {submission_time:.1f} s of '
          'submission time.')


def goals_note(workload, eval_rows: list, goals: GoalEvals) -> str:
  """'validation/<metric> ... met target ... at eval i (step s); test/...'."""
  metric = workload.target_metric_name
  parts = []
  for split, index, target in (
      ('validation', goals.validation, workload.validation_target_value),
      ('test', goals.test, workload.test_target_value)):
    if index is None:
      key = f'{split}/{metric}'
      read = any(key in row for row in eval_rows)
      # A tuning run reads no test split: say so, not that it was missed.
      parts.append(f'{key} never met target {target}' if read
                   else f'{split} split not evaluated')
      continue
    row = eval_rows[index]
    parts.append(f'{split}/{metric} {row[f"{split}/{metric}"]:.4f} met target '
                 f'{target} at eval {index + 1} (step {row["global_step"]})')
  return '; '.join(parts)
