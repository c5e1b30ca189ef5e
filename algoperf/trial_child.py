"""The process one supervised trial runs in: ``python -m algoperf.trial_child
SCRATCH [--warmup]``.

``SCRATCH`` (made by ``supervisor``) holds ``job.pkl``, the shared
``heartbeat``, ``tmp/`` (this process's TMPDIR) and the trial's persistent
compilation cache. The child dies with its supervisor
(``PR_SET_PDEATHSIG``), installs the sandbox, marks every submission call
and eval in the heartbeat, trains the trial, and writes ``result.json`` only
when it has an outcome to report; a process that ends without one was ended
by its submission or by a signal, and the supervisor says so.

With ``--warmup`` it is the warm-up that runs before the timed process
(docs/design.md §6): ``WARMUP_STEPS`` steps of the same trial, on random
data of the workload's shapes, in a throwaway directory under its TMPDIR,
writing ``warmup.json``. Nothing it leaves reaches the timed process but
what JAX put in the compilation cache: the sandbox lets it write only to
its TMPDIR (deleted after it) and lets only JAX's cache code use the cache.
"""

import dataclasses
import functools
import os
import pathlib
import pickle
import signal
import sys
import traceback

from algoperf import exit_codes
from algoperf import heartbeat as heartbeat_lib
from algoperf import records
from algoperf.errors import AlgoperfError
from algoperf.errors import DataError
from algoperf.errors import SubmissionError

JOB = 'job.pkl'
RESULT = 'result.json'
HEARTBEAT = 'heartbeat'
TMP = 'tmp'
WARMUP = '--warmup'
WARMUP_RESULT = 'warmup.json'
WARMUP_HEARTBEAT = 'heartbeat.warmup'
# Steps 0-2 compile what the timed loop compiles at its start: the train
# step (the validator expects no new compilation after step 2), the eval
# after step 1 (with prepare_for_eval) and the final one.
WARMUP_STEPS = 3
WARMUP_EXAMPLES = 64  # Random examples per split: shapes are what matter.
# The child's exit status when even result.json could not be written.
RESULT_UNWRITABLE = 75  # EX_TEMPFAIL
_CALLS = ('get_batch_size', 'init_optimizer_state', 'data_selection',
          'update_params', 'prepare_for_eval')
# Where a submission function's global_step argument is (data_selection,
# update_params, prepare_for_eval).
_STEP_ARG = {'data_selection': 6, 'update_params': 9, 'prepare_for_eval': 8}


class SubmissionExit(Exception):
  """A submission call raised SystemExit: it tried to end the trial."""


class SandboxViolation(Exception):
  """A submission call did what the sandbox refuses (even if it caught it)."""


# The supervisor's PID, set by it for its child.
SUPERVISOR_PID = 'ALGOPERF_SUPERVISOR_PID'


def die_with_parent() -> None:
  """Linux: SIGKILL this process when its parent (the supervisor) dies."""
  try:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
  except (OSError, AttributeError):
    pass  # Not Linux: the parent's pipe check below still applies.
  # The parent died before prctl if this process has another parent now.
  # Compared with the supervisor's PID, not with 1: in a container the
  # supervisor (the CLI, the entrypoint's exec) is itself process 1.
  supervisor = os.environ.get(SUPERVISOR_PID)
  if supervisor and os.getppid() != int(supervisor):
    os._exit(exit_codes.INTERRUPTED)


def _guarded(name, fn, beat, sandbox):
  """``fn`` marking the heartbeat; SystemExit and violations are raised."""

  @functools.wraps(fn)
  def call(*args, **kwargs):
    step = args[_STEP_ARG[name]] if name in _STEP_ARG and len(args) > (
      _STEP_ARG[name]) else -1
    beat.enter_call(name, step if isinstance(step, int) else -1)
    seen = len(sandbox.violations())
    try:
      result = fn(*args, **kwargs)
    except SystemExit as e:
      raise SubmissionExit(
        f'called sys.exit({e.code!r}); a submission may not end the trial: '
        'raise spec.TrainingCompleteError to stop training').with_traceback(
          e.__traceback__) from None
    finally:
      # Raised too: get_batch_size's ValueError is AlgoPerf's way to ask
      # for the base workload's size, and the set-up after it is not the
      # submission's time.
      beat.leave_call()
    new = sandbox.violations()[seen:]
    if new:
      raise SandboxViolation(' '.join(new))
    return result

  return call


def _watch_evals(workload, beat) -> None:
  """Evals are harness time: the heartbeat says so while one runs."""
  original = workload.eval_model

  @functools.wraps(original)
  def eval_model(*args, **kwargs):
    beat.enter_harness()
    return original(*args, **kwargs)

  workload.eval_model = eval_model


def _install_sandbox(job, submission_path: pathlib.Path, tmp: str,
                     warmup: bool = False) -> None:
  """The trial writes to its directory and TMPDIR; the warm-up to its
  TMPDIR only. Only JAX's cache code may use the compilation cache."""
  from algoperf import sandbox
  from algoperf.data import dirs

  writable = [tmp] if warmup else [job.trial_dir, tmp]
  cache = os.environ.get('JAX_COMPILATION_CACHE_DIR')
  try:
    import jax

    cache = jax.config.jax_compilation_cache_dir or cache
  except (ImportError, AttributeError):
    pass
  sandbox.install(sandbox.Policy.create(
    [submission_path.parent], writable,
    [dirs.resolve_data_dir(job.config.data_dir)], cache_roots=[cache]))


def _load(job, beat, workload, warmup: bool = False):
  """The submission, loaded under the sandbox, its calls guarded."""
  from algoperf import clock
  from algoperf import sandbox
  from algoperf import submission as submission_lib

  budget = workload.max_allowed_runtime_sec * job.config.budget_multiplier
  beat.set_budget(budget)  # Before any submission code runs.
  beat.enter_call('<import>')
  path = submission_lib.resolve_path(job.submission)
  _install_sandbox(job, path, os.environ.get('TMPDIR', ''), warmup)
  submission = submission_lib.load_submission(path)
  guarded = {name: _guarded(name, getattr(submission, name), beat, sandbox)
             for name in _CALLS if getattr(submission, name) is not None}
  _watch_evals(workload, beat)
  clock.observe(beat.on_charge)
  return dataclasses.replace(submission, **guarded)


def _warmup_notes(scratch: pathlib.Path) -> dict:
  """What the warm-up before this process reported, for status.json."""
  try:
    return {'warmup': records.read_json(scratch / WARMUP_RESULT)}
  except (OSError, ValueError):
    return {}


def _train(job, beat, scratch: pathlib.Path):
  """Loads, guards and trains the trial; returns the runner's TrialResult."""
  from algoperf import registry
  from algoperf import runner

  workload = registry.make_workload(job.workload)
  submission = _load(job, beat, workload)
  if job.synthetic_data:
    workload.use_synthetic_data(job.synthetic_data)
  # No display here: the supervisor shows the trial from the heartbeat and
  # status.json (trial_watch.py).
  return runner.run_trial(workload, submission, job.config,
                          notes=_warmup_notes(scratch))


def _warm_up(job, beat) -> dict:
  """The trial's first steps on random data, off any clock that counts;
  returns what warmup.json records."""
  import math
  import time

  from algoperf import registry
  from algoperf import runner

  started = time.monotonic()
  workload = registry.make_workload(job.workload)
  submission = _load(job, beat, workload, warmup=True)
  # The hang rule keeps the trial's budget (set above); the runner none.
  workload.override_facts(max_allowed_runtime_sec=math.inf)
  workload.use_synthetic_data(WARMUP_EXAMPLES)
  config = dataclasses.replace(
    job.config, experiment_dir=os.path.join(os.environ['TMPDIR'], 'warmup'),
    rng_seed=job.config.rng_seed + 1, max_steps=WARMUP_STEPS,
    checkpoint_every_sec=None, progress=False, budget_multiplier=1.0)
  result = runner.run_trial(workload, submission, config)
  status = records.read_json(pathlib.Path(result.trial_dir) / records.STATUS)
  return {'status': result.status, 'message': result.message,
          'steps': result.global_step,
          'seconds': time.monotonic() - started,
          'compilation': status['measurements'][-1]['compilation']}


def _status(job) -> dict | None:
  try:
    return records.read_json(job.trial_dir / records.STATUS)
  except (OSError, ValueError):
    return None


def mark_failed(job, reason: str, message: str, details: str = '') -> bool:
  """status.json of a started trial says ``failed``; False if not written."""
  status = _status(job)
  if status is None or status.get('status') != records.RUNNING:
    return False
  import time

  status.update({'status': records.FAILED, 'reason': reason,
                 'message': message, 'updated': time.time()})
  if details:
    status['traceback'] = details
  try:
    records.write_json(job.trial_dir / records.STATUS, status)
  except OSError:
    return False  # Disk still full: the trial stays 'running' (resumable).
  return True


def _outcome(job, beat, scratch: pathlib.Path) -> dict:
  """Runs the trial; its outcome as the supervisor's summary fields."""
  from algoperf import fs

  try:
    result = _train(job, beat, scratch)
  except SubmissionError as e:
    return {'status': records.ERROR, 'message': str(e),
            'exit_code': exit_codes.SUBMISSION}
  except DataError as e:
    if mark_failed(job, 'data', str(e)):  # Mid-trial: resumable once fixed.
      return {'status': records.FAILED, 'reason': 'data', 'message': str(e),
              'exit_code': e.exit_code}
    return {'status': records.ERROR, 'message': str(e),
            'exit_code': e.exit_code}
  except AlgoperfError as e:
    return {'status': records.ERROR, 'message': str(e),
            'exit_code': e.exit_code}
  except OSError as e:
    reason = 'no_space' if fs.is_no_space(e) else 'io'
    message = fs.infrastructure_message(e, 'running the trial')
    _free_partial_checkpoints(job)
    mark_failed(job, reason, message, traceback.format_exc())
    return {'status': records.FAILED, 'reason': reason, 'message': message,
            'exit_code': exit_codes.INFRASTRUCTURE}
  except Exception as e:  # noqa: BLE001 -- a harness bug: say so, keep going.
    if fs.is_no_space(e):  # Libraries (orbax) wrap the OSError.
      message = fs.infrastructure_message(OSError(28, str(e)),
                                          'running the trial')
      _free_partial_checkpoints(job)
      mark_failed(job, 'no_space', message, traceback.format_exc())
      return {'status': records.FAILED, 'reason': 'no_space',
              'message': message, 'exit_code': exit_codes.INFRASTRUCTURE}
    message = (f'internal error of the harness: {type(e).__name__}: {e}; '
               'please report it with the traceback in status.json.')
    mark_failed(job, 'internal', message, traceback.format_exc())
    return {'status': records.FAILED, 'reason': 'internal',
            'message': message, 'exit_code': exit_codes.INFRASTRUCTURE}
  code = (exit_codes.SUBMISSION if result.status in (records.ERROR,
                                                     records.DIVERGED)
          else exit_codes.OK)
  return {'status': result.status, 'message': result.message,
          'global_step': result.global_step, 'last_eval': result.last_eval,
          'exit_code': code}


def _free_partial_checkpoints(job) -> None:
  """Orbax's unfinished temporary directories: what a full disk left."""
  import shutil

  root = job.trial_dir / 'checkpoints'
  if root.is_dir():
    for path in root.iterdir():
      if path.is_dir() and 'tmp' in path.name:
        shutil.rmtree(path, ignore_errors=True)


def _warmup_outcome(job, beat) -> dict:
  """The warm-up's report; its failures are the timed process's to meet."""
  try:
    return _warm_up(job, beat)
  except Exception as e:  # noqa: BLE001 -- reported, never fatal.
    return {'status': records.ERROR,
            'message': f'{type(e).__name__}: {e}'.splitlines()[0][:300]}


def main(argv=None) -> int:
  die_with_parent()
  args = argv or sys.argv[1:]
  scratch = pathlib.Path(args[0])
  warmup = WARMUP in args[1:]
  job = pickle.loads((scratch / JOB).read_bytes())
  beat = heartbeat_lib.Heartbeat(
    scratch / (WARMUP_HEARTBEAT if warmup else HEARTBEAT))
  if warmup:
    path, outcome = scratch / WARMUP_RESULT, _warmup_outcome(job, beat)
  else:
    path, outcome = scratch / RESULT, _outcome(job, beat, scratch)
  try:
    records.write_json(path, outcome)
  except OSError:
    return RESULT_UNWRITABLE
  return 0


if __name__ == '__main__':
  sys.exit(main())
