"""The validator's subprocess: import submissions and train a few steps.

Run by ``algoperf.validation`` as
``python -m algoperf.validation_worker --report FILE [options] SUB ...``;
appends one JSON line ``{"submission": path, "problems": [...]}`` per
submission to FILE. A call that does not return within ``--call-timeout``
seconds ends the process (exit 3) after writing its line, so the parent can
go on with the remaining submissions in a fresh process.

Guards active while submission code runs: writes outside the submission's
directory and the scratch temp dir are blocked (audit hook), reads of the
validation/test splits through the workload are recorded, and XLA
compilations are counted per call, with the programs' names and JAX's
explanation of each cache miss (its compile log). Each line also carries
``"warnings"``: what is allowed but costs the submission time.
"""

import argparse
import dataclasses
import functools
import json
import logging
import math
import os
import pathlib
import resource
import sys
import threading
import time

import jax

from algoperf import clock
from algoperf import sandbox
from algoperf import submission as submission_lib
from algoperf import submission_calls as calls_lib
from algoperf import tuning
from algoperf import validation_checks as checks
from algoperf.errors import AlgoperfError

# Steps per workload. Compiling in the first COMPILE_STEPS is expected; a
# compile in a later step is a warning (AlgoPerf allows eager ops outside
# jit, which compile once per new input type), and a compile in every later
# step is a problem: compilations that grow with the steps.
NUM_STEPS = 6
COMPILE_STEPS = 2
# update_params' train_state: a fresh clock with no time limit.
_TRAIN_STATE = functools.partial(
  calls_lib.train_state_view, dict.fromkeys(clock.ACCUMULATORS, 0.0),
  -math.inf, math.inf)
EVAL_SPLITS = ('validation', 'test')
_GUARDED_DATA_METHODS = ('_build_input_queue', 'split_arrays', 'eval_model',
                         '_eval_model_on_split')
_WRITE_EVENTS = ('open', 'os.mkdir', 'os.remove', 'os.rename', 'os.rmdir',
                 'shutil.rmtree', 'os.truncate')
_BLOCKED = 'validator: write outside the submission: '
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


class _Guard:
  """Process-wide state of the current submission call."""

  def __init__(self):
    self.path = None  # The submission.py being validated.
    self.call = None  # (function, workload, step) while submission code runs.
    self.started = 0.0
    self.allowed_dirs: tuple = ()
    self.problems: list = []
    self.compiles = 0
    self.compile_log: list = []  # (program name or None, cache-miss text).
    self.warnings: list = []
    self.batch_size_devices: int | None = None  # None: the local devices.
    self.data_depth = 0  # Nesting of guarded workload data methods.
    self.report = ''  # The worker's own output file: always writable.

  def note(self, message: str) -> None:
    if message not in self.problems:
      self.problems.append(message)

  def warn(self, message: str) -> None:
    if message not in self.warnings:
      self.warnings.append(message)


GUARD = _Guard()
PROGRESS = None  # The --progress file, opened before the sandbox is on.


def _audit(event, args):
  if GUARD.call is None or event not in _WRITE_EVENTS:
    return
  if event == 'open':
    path, mode, flags = args
    writes = (mode is not None and any(c in str(mode) for c in 'wax+')) or (
      mode is None and isinstance(flags, int) and flags & _WRITE_FLAGS)
    if not writes or isinstance(path, int):
      return
  else:
    path = args[0]
  target = os.path.abspath(os.fsdecode(path))
  if target in (os.devnull, GUARD.report) or any(
      target == d or target.startswith(d + os.sep) for d in GUARD.allowed_dirs):
    return
  GUARD.note(f'{_where()} tried to write {target} ({event}), outside the '
             'submission directory; the validator blocked it. Write only '
             'under the submission directory or tempfile.gettempdir().')
  raise PermissionError(f'{_BLOCKED}{target}')


def _where() -> str:
  function, workload, step = GUARD.call
  context = f' (workload {workload}' + (
    f', step {step})' if step is not None else ')') if workload else ''
  return f'{GUARD.path}: {function}{context}'


def _on_event_duration(event, duration, **kwargs):
  del duration, kwargs
  if event == '/jax/core/compile/backend_compile_duration':
    GUARD.compiles += 1


class _CompileLog(logging.Handler):
  """Keeps what jax's compile log says: programs compiled, cache misses."""

  _COMPILING = 'Compiling '
  _MISS = 'CACHE MISS'

  def emit(self, record):
    message = record.getMessage()
    if message.startswith(self._COMPILING):
      name = message[len(self._COMPILING):].split(' with ', 1)[0]
      GUARD.compile_log.append((name, None))
    elif self._MISS in message:
      GUARD.compile_log.append((None, _miss_reason(message)))


def _miss_reason(message: str) -> str:
  """The lines of a cache-miss explanation after its 'at FILE:LINE' head."""
  lines = [line.strip() for line in message.splitlines()[1:]]
  return ' '.join(line for line in lines if line)[:300]


def _watch_compiles() -> None:
  """jax's compile log into GUARD, and not onto the worker's output."""
  jax.config.update('jax_log_compiles', True)
  jax.config.update('jax_explain_cache_misses', True)
  logger = logging.getLogger('jax')
  logger.addHandler(_CompileLog(logging.WARNING))
  logger.setLevel(logging.WARNING)
  logger.propagate = False
  for handler in list(logger.handlers):
    if not isinstance(handler, _CompileLog):
      logger.removeHandler(handler)


def _watchdog(report, timeout_s: float):
  while True:
    time.sleep(0.2)
    call = GUARD.call
    if call is not None and time.monotonic() - GUARD.started > timeout_s:
      message = (f'{_where()} did not return within {timeout_s:.0f} s; the '
                 'validator stopped it. An infinite loop, or a step far too '
                 'slow for a tiny model?')
      _emit(report, GUARD.path, GUARD.problems + [message], GUARD.warnings)
      os._exit(3)


def _emit(report, path, problems, warnings) -> None:
  with open(report, 'a') as f:
    f.write(json.dumps({'submission': str(path), 'problems': problems,
                        'warnings': warnings}) + '\n')


def _tell(function: str, workload, step) -> None:
  """The call about to run, as a line of the progress file (the parent's
  display, validation_progress.py); written before the guards are on."""
  if PROGRESS is not None:
    PROGRESS.write(json.dumps({'submission': str(GUARD.path),
                               'call': function, 'workload': workload,
                               'step': step}) + '\n')
    PROGRESS.flush()


def _call(function: str, fn, *args, workload=None, step=None, **kwargs):
  """Runs submission code under the guards; returns (ok, value)."""
  _tell(function, workload, step)
  GUARD.call = (function, workload, step)
  GUARD.started = time.monotonic()
  try:
    return True, fn(*args, **kwargs)
  except Exception as e:  # noqa: BLE001 -- any failure is the submission's.
    _note_raised(e)
    return False, None
  finally:
    GUARD.call = None


def _note_raised(e: Exception) -> None:
  if isinstance(e, PermissionError) and str(e).startswith(
      (_BLOCKED, sandbox.BLOCKED)):
    return  # _audit or the sandbox already described it.
  GUARD.note(calls_lib.raised_message(_where(), e, GUARD.path))


def _guard_eval_data(workload) -> None:
  """Records reads of validation/test data made from submission code."""
  for method in _GUARDED_DATA_METHODS:
    original = getattr(workload, method)

    def guarded(*args, _method=method, _original=original, **kwargs):
      split = next((a for a in list(args) + list(kwargs.values())
                    if isinstance(a, str) and a in EVAL_SPLITS), None)
      if GUARD.call is not None and not GUARD.data_depth and (
          split or _method in ('eval_model', '_eval_model_on_split')):
        GUARD.note(f'{_where()} read evaluation data (workload.{_method}'
                   f'{f" of split {split!r}" if split else ""}); submissions '
                   'may not read validation or test data.')
      GUARD.data_depth += 1
      try:
        return _original(*args, **kwargs)
      finally:
        GUARD.data_depth -= 1

    setattr(workload, method, guarded)


def _hyperparameters(path: pathlib.Path, ruleset: str):
  if ruleset == 'self':
    return None
  space = tuning.load_search_space(path.parent / 'tuning_search_space.json')
  return tuning.make_hyperparameters(tuning.trial_points(space, 1, 0)[0])


def _run_workload(submission, name: str, hyperparameters) -> bool:
  """A few steps on tiny synthetic data; False once a problem is found."""
  from algoperf import registry

  workload = registry.make_workload(name)
  workload.use_synthetic_data(64)
  before = len(GUARD.problems)
  calls = calls_lib.SubmissionCalls.create(submission, workload,
                                           hyperparameters, None)
  ok, resolved = _call('get_batch_size', calls.get_batch_size,
                       GUARD.batch_size_devices or len(jax.devices()),
                       workload=name)
  if not ok:
    return False
  batch_size, problems = resolved
  GUARD.problems += problems
  if problems:
    return False
  rng = jax.random.PRNGKey(0)
  params, model_state = workload.init_model_fn(rng)
  expected = (calls_lib.tree_signature(params),
              calls_lib.tree_signature(model_state))
  queue = workload._build_input_queue(rng, 'train', None, batch_size)
  reference = checks.batch_signature(
    next(workload._build_input_queue(rng, 'train', None, batch_size)))
  workload.attach_metrics_logger(_NullMetricsLogger())
  _guard_eval_data(workload)
  ok, opt_state = _call('init_optimizer_state', calls.init_optimizer_state,
                        params, model_state, rng, workload=name)
  if not ok:
    return False
  state = calls_lib.State(opt_state, params, model_state)
  compiles = []
  for step in range(NUM_STEPS):
    state = _step(calls, queue, state, step, reference, expected, compiles)
    if state is None:
      return False
  _judge_compiles(f'{submission.path}: update_params (workload {name})',
                  compiles)
  if submission.prepare_for_eval is not None:
    for step in (NUM_STEPS, NUM_STEPS + 1):
      state = _prepare_for_eval(calls, state, step, expected)
      if state is None:
        return False
  return len(GUARD.problems) == before


class _NullMetricsLogger:
  def append_scalar_metrics(self, metrics, global_step, **kwargs):
    del metrics, global_step, kwargs


def _returned_problems(where: str, returned, expected) -> list:
  problems = calls_lib.check_update_return(where, returned, *expected)
  return problems or checks.check_finite(where, returned[1])


@dataclasses.dataclass(frozen=True)
class _StepCompiles:
  """What one update_params call compiled, from the compile log."""

  step: int
  count: int
  programs: tuple  # Names of the programs compiled.
  reasons: tuple  # JAX's explanations of the cache misses behind them.


def _judge_compiles(where: str, compiles: list) -> None:
  """Compiles after the first steps: a warning, or a problem if unbounded."""
  late = [c for c in compiles if c.step >= COMPILE_STEPS and c.count]
  if not late:
    return
  programs = sorted({p for c in late for p in c.programs}) or ['unnamed']
  reasons = list(dict.fromkeys(r for c in late for r in c.reasons))
  cause = f' JAX says: {reasons[0]}' if reasons else ''
  steps = [c.step for c in late]
  if len(late) == NUM_STEPS - COMPILE_STEPS:
    GUARD.note(
      f'{where} compiled new XLA programs at every step from '
      f'{COMPILE_STEPS} to {NUM_STEPS - 1} ({", ".join(programs)}): '
      f'compilations that grow with the steps.{cause} Every step must '
      'reuse its compiled programs. Common causes: calling jax.jit on a new '
      'function object each step (a lambda or closure), a per-step Python '
      'value such as global_step passed as a static argument, or changing '
      'shapes.')
    return
  GUARD.warn(
    f'{where} compiled {sum(c.count for c in late)} new XLA program(s) at '
    f'step(s) {", ".join(map(str, steps))}, after the first '
    f'{COMPILE_STEPS} ({", ".join(programs)}).{cause} Allowed (ops outside '
    'jit compile once per new input type), but each compilation is '
    'submission time.')


def _step(calls, queue, state, step, reference, expected, compiles):
  """One data_selection and update_params; the new state, None on problems."""
  name, before = calls.workload.name, len(GUARD.problems)
  where = f'{calls.submission.path}: %s (workload {name}, step {step})'
  rng = jax.random.fold_in(jax.random.PRNGKey(1), step)
  ok, batch = _call('data_selection', calls.data_selection, queue, state,
                    step, rng, workload=name, step=step)
  if not ok:
    return None
  GUARD.problems += checks.check_batch(where % 'data_selection', batch,
                                       reference)
  if len(GUARD.problems) > before:
    return None
  snapshot = checks.batch_snapshot(batch)
  count, logged = GUARD.compiles, len(GUARD.compile_log)
  ok, returned = _call('update_params', calls.update_params, state, batch, [],
                       step, rng, _TRAIN_STATE, workload=name, step=step)
  if not ok:
    return None
  where_update = where % 'update_params'
  GUARD.problems += _returned_problems(where_update, returned, expected)
  GUARD.problems += checks.check_batch_unchanged(where_update, batch,
                                                 snapshot)
  log = GUARD.compile_log[logged:]
  compiles.append(_StepCompiles(
    step, GUARD.compiles - count,
    tuple(dict.fromkeys(name for name, _ in log if name)),
    tuple(dict.fromkeys(reason for _, reason in log if reason))))
  return None if len(GUARD.problems) > before else calls_lib.State(*returned)


def _prepare_for_eval(calls, state, step, expected):
  """One prepare_for_eval; the new state, None on problems."""
  name = calls.workload.name
  where = (f'{calls.submission.path}: prepare_for_eval (workload {name}, '
           f'step {step})')
  ok, returned = _call('prepare_for_eval', calls.prepare_for_eval, state, [],
                       step, jax.random.PRNGKey(step), workload=name,
                       step=step)
  if not ok:
    return None
  problems = _returned_problems(where, returned, expected)
  GUARD.problems += problems
  return None if problems else calls_lib.State(*returned)


def validate_one(path: pathlib.Path, ruleset: str, workloads: list) -> list:
  GUARD.path, GUARD.problems, GUARD.warnings = path, [], []
  GUARD.allowed_dirs = (str(path.parent), os.path.abspath(
    os.environ.get('TMPDIR', '/tmp')))
  sandbox.install_for_validation(path)  # Network, processes, eval files.
  ok, module = _call('<import>', submission_lib.import_module, path)
  if not ok or module is None:
    return _import_problems()
  api = submission_lib.api_problems(path, module)
  if api:
    return api
  submission = submission_lib.load_submission(path)
  try:
    hyperparameters = _hyperparameters(path, ruleset)
  except AlgoperfError as e:
    return [str(e)]
  for name in workloads:
    if not _run_workload(submission, name, hyperparameters):
      break
  return GUARD.problems + sandbox.violations()


def _import_problems() -> list:
  # _call recorded "raised SubmissionError: <message>"; keep the message.
  marker = 'raised SubmissionError: '
  return [p.split(marker, 1)[1].rsplit(' (at ', 1)[0] if marker in p else p
          for p in GUARD.problems]


def _limit_memory() -> None:
  """Caps the address space at physical memory: no swapping the machine."""
  try:
    total = os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES')
    resource.setrlimit(resource.RLIMIT_AS, (total, total))
  except (ValueError, OSError):
    pass


def main(argv=None) -> int:
  parser = argparse.ArgumentParser()
  parser.add_argument('--report', required=True)
  parser.add_argument('--ruleset', choices=['external', 'self'],
                      default='external')
  parser.add_argument('--workloads', required=True)
  parser.add_argument('--call-timeout', type=float, default=300.0)
  parser.add_argument('--progress', default=None,
                      help='JSON lines: each submission call as it starts')
  # get_batch_size's result must divide this many devices (default: the
  # local ones); a run on fewer devices still checks the benchmark's count.
  parser.add_argument('--batch-size-devices', type=int, default=None)
  parser.add_argument('submissions', nargs='+')
  args = parser.parse_args(argv)
  GUARD.report = os.path.abspath(args.report)
  GUARD.batch_size_devices = args.batch_size_devices
  global PROGRESS
  if args.progress:
    PROGRESS = open(args.progress, 'a')  # noqa: SIM115 -- the process's.
  _limit_memory()
  jax.monitoring.register_event_duration_secs_listener(_on_event_duration)
  _watch_compiles()
  sys.addaudithook(_audit)
  threading.Thread(target=_watchdog, args=(args.report, args.call_timeout),
                   daemon=True).start()
  for path in args.submissions:
    path = pathlib.Path(path).resolve()
    problems = validate_one(path, args.ruleset, args.workloads.split(','))
    _emit(args.report, path, problems, GUARD.warnings)
  return 0


if __name__ == '__main__':
  sys.exit(main())
