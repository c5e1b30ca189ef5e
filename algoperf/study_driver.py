"""Run a whole study: plan, check, lock, skip finished trials, dispatch.

``run_study`` is what `algoperf study` calls; everything it needs is in a
``StudySpec`` (flags are parsed in the command module only). Target setting
and the reference leaderboard share its orchestration, ``run_trials``.
"""

import contextlib
import dataclasses
import pathlib
import sys
from collections.abc import Callable

from algoperf import exit_codes
from algoperf import experiment_lock
from algoperf import fs
from algoperf import names
from algoperf import records
from algoperf import study as study_lib
from algoperf import study_backends
from algoperf import study_status
from algoperf import submission as submission_lib
from algoperf.data import dirs
from algoperf.data import prepared
from algoperf.errors import AlgoperfError
from algoperf.errors import DataError
from algoperf.errors import UsageError


def check_data(spec: study_lib.StudySpec) -> None:
  """Every workload's data is prepared here (local and pool backends).

  Raises:
    DataError: names the workload and the command that prepares it.
  """
  from algoperf import registry

  if spec.synthetic_data:
    return
  from algoperf.data import raw

  data_dir = dirs.resolve_data_dir(spec.data_dir)
  for name in spec.workloads:
    dataset = raw.dataset_for(name)
    if dataset is not None:  # AlgoPerf suite: prepared from --source.
      dataset.verify(data_dir, name, full=False)
      continue
    builder = registry.get_workload_class(name).dataset_builder
    if builder is not None and not prepared.is_prepared(builder, data_dir):
      raise DataError(
        f'No prepared data for {name!r} in {data_dir}. Prepare it with '
        f'`{prepared.prepare_command(name)} --data-dir {data_dir}` before '
        'starting the study.')


def choose_backend(backend: str | None, num_jobs: int) -> str:
  """The default: in-process for one trial, else the local process pool."""
  if backend:
    return backend
  return study_backends.LOCAL if num_jobs <= 1 else study_backends.POOL


@dataclasses.dataclass(frozen=True)
class Plan:
  """Trials of one experiment, as ``study.plan_trials`` made them for spec."""

  spec: study_lib.StudySpec
  jobs: tuple


@dataclasses.dataclass(frozen=True)
class Dispatch:
  """Where, in which order and until when the unfinished trials run."""

  backend: str = study_backends.LOCAL
  max_workers: int | None = None
  address: str | None = None  # Ray's.
  deadline: float | None = None  # time.monotonic(): start none after.
  order: Callable | None = None  # Sort key of the trials to run.
  live: pathlib.Path | None = None  # Show this folder's live table.
  show_output: bool = False  # Local trials print here (progress lines).


@dataclasses.dataclass(frozen=True)
class Outcome:
  summaries: tuple  # One per trial; finished earlier: status 'skipped'.
  ran: int
  left: int  # Not started before the deadline: a rerun runs them.


def experiment_path(spec: study_lib.StudySpec) -> pathlib.Path:
  return pathlib.Path(spec.experiment_dir) / spec.name


def run_trials(plans, dispatch: Dispatch = Dispatch(),
               on_done: Callable | None = None,
               check_finished: Callable | None = None) -> Outcome:
  """Runs the unfinished trials of ``plans``; finished ones are skipped.

  Holds every experiment's lock throughout; calls ``check_finished(job)``
  on each finished trial (it raises to refuse reusing one), then records
  each plan (``study.record_plan`` refuses one that changes a trial), then
  runs the rest as ``dispatch`` says, ``on_done(job, summary)`` after each.
  """
  summaries, todo = [], []

  def done(job, summary):
    summaries.append(summary)
    if on_done is not None:
      on_done(job, summary)

  with contextlib.ExitStack() as locks:
    for experiment in sorted({experiment_path(p.spec) for p in plans}):
      locks.enter_context(experiment_lock.experiment_lock(experiment))
    for job in (job for plan in plans for job in plan.jobs):
      if not study_lib.is_finished(job):
        todo.append(job)
        continue
      if check_finished is not None:
        check_finished(job)
      summaries.append({'label': job.label, 'status': 'skipped',
                        'message': 'finished earlier',
                        'trial_dir': str(job.trial_dir)})
    for plan in plans:
      study_lib.record_plan(plan.spec, list(plan.jobs))
    if dispatch.order is not None:
      todo.sort(key=dispatch.order)  # Stable: ties keep the plan's order.
    left = _dispatch(todo, dispatch, done) if todo else 0
  return Outcome(tuple(summaries), len(todo) - left, left)


def _dispatch(jobs: list, dispatch: Dispatch, on_done: Callable) -> int:
  with study_status.live_table(dispatch.live, dispatch.live is not None):
    return study_backends.run_jobs(
      jobs, dispatch.backend, on_done, max_workers=dispatch.max_workers,
      address=dispatch.address, deadline=dispatch.deadline,
      show_output=dispatch.show_output)


def check_spec(spec: study_lib.StudySpec) -> None:
  """Names and directories, before anything is written.

  Raises:
    UsageError: a --name that is not a plain name.
    AlgoperfError, InfrastructureError: an experiment directory that is a
      file or cannot be written.
  """
  names.check_name(spec.name)
  for flag, value in (('--max-steps', spec.max_steps),
                      ('--eval-every-steps', spec.eval_every_steps)):
    if value is not None and value < 1:
      raise UsageError(f'{flag} {value}: expected an integer >= 1 (omit it '
                       'for no limit).')
  if spec.grace_sec < 0:
    raise UsageError(f'--grace-sec {spec.grace_sec}: expected seconds >= 0.')
  if spec.data_dir is not None and pathlib.Path(spec.data_dir).exists() and (
      not pathlib.Path(spec.data_dir).is_dir()):
    raise AlgoperfError(f'--data-dir {spec.data_dir}: a file, expected the '
                        'directory of prepared data.')


def exit_code(summaries, verb: str | None = None) -> int:
  """The verb's exit status: the highest of its trials' (exit_codes.py).

  With ``verb``, each failed trial's reason is printed to stderr.
  """
  codes = []
  for s in summaries:
    code = s.get('exit_code', _status_code(s['status']))
    codes.append(code)
    if verb and code:
      print(f'algoperf {verb}: {s["label"]}: {s["status"]}: {s["message"]}',
            file=sys.stderr)
  return max(codes, default=exit_codes.OK)


def _status_code(status: str) -> int:
  if status in (records.ERROR, records.DIVERGED, records.FAILED):
    return exit_codes.SUBMISSION
  if status == records.TIMEOUT:
    return exit_codes.TIMEOUT
  return exit_codes.OK


def run_study(spec: study_lib.StudySpec, backend: str | None = None,
              address: str | None = None,
              max_workers: int | None = None,
              progress: bool = True) -> dict:
  """Runs the study's unfinished trials; returns {label: summary}.

  Everything that can be checked is checked before any training: the
  submission's API, the search space, workload names, prepared data, and
  the experiment lock. Finished trials are skipped (summary status
  'skipped'); unfinished ones resume from their last checkpoint.
  """
  check_spec(spec)
  submission = submission_lib.load_submission(spec.submission)
  jobs = study_lib.plan_trials(spec, submission)
  backend = choose_backend(backend, len(jobs))
  if backend != study_backends.RAY:
    check_data(spec)
  fs.check_writable_dir(spec.experiment_dir, '--experiment-dir')
  experiment = experiment_path(spec)
  outcome = run_trials([Plan(spec, tuple(jobs))], Dispatch(
    backend, max_workers, address, live=experiment if progress else None))
  if not progress or not outcome.ran:
    study_status.print_status(experiment)
  return {s['label']: s for s in outcome.summaries}
