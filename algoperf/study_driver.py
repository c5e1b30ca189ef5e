"""Run a whole study: plan, check, lock, skip finished trials, dispatch.

``run_study`` is what `algoperf study` calls; everything it needs is in a
``StudySpec`` (flags are parsed in the command module only).
"""

import pathlib
from typing import Optional

from algoperf import experiment_lock
from algoperf import study as study_lib
from algoperf import study_backends
from algoperf import study_status
from algoperf import submission as submission_lib
from algoperf.data import dirs
from algoperf.data import prepared
from algoperf.errors import DataError


def check_data(spec: study_lib.StudySpec) -> None:
  """Every workload's data is prepared here (local and pool backends).

  Raises:
    DataError: names the workload and the command that prepares it.
  """
  from algoperf import registry

  if spec.synthetic_data:
    return
  data_dir = dirs.resolve_data_dir(spec.data_dir)
  for name in spec.workloads:
    builder = registry.get_workload_class(name).dataset_builder
    if builder is not None and not prepared.is_prepared(builder, data_dir):
      raise DataError(
        f'No prepared data for {name!r} in {data_dir}. Prepare it with '
        f'`{prepared.prepare_command(name)} --data-dir {data_dir}` before '
        'starting the study.')


def choose_backend(backend: Optional[str], num_jobs: int) -> str:
  """The default: in-process for one trial, else the local process pool."""
  if backend:
    return backend
  return study_backends.LOCAL if num_jobs <= 1 else study_backends.POOL


def run_study(spec: study_lib.StudySpec, backend: Optional[str] = None,
              address: Optional[str] = None,
              max_workers: Optional[int] = None,
              progress: bool = True) -> dict:
  """Runs the study's unfinished trials; returns {label: summary}.

  Everything that can be checked is checked before any training: the
  submission's API, the search space, workload names, prepared data, and
  the experiment lock. Finished trials are skipped (summary status
  'skipped'); unfinished ones resume from their last checkpoint.
  """
  submission = submission_lib.load_submission(spec.submission)
  jobs = study_lib.plan_trials(spec, submission)
  backend = choose_backend(backend, len(jobs))
  if backend != study_backends.RAY:
    check_data(spec)
  experiment = pathlib.Path(spec.experiment_dir) / spec.name
  summaries = {}

  def on_done(job, summary):
    summaries[job.label] = summary

  with experiment_lock.experiment_lock(experiment):
    study_lib.record_plan(spec, jobs)
    todo = []
    for job in jobs:
      if study_lib.is_finished(job):
        summaries[job.label] = {'label': job.label, 'status': 'skipped',
                                'message': 'finished earlier',
                                'trial_dir': str(job.trial_dir)}
      else:
        todo.append(job)
    with study_status.live_table(experiment, progress):
      study_backends.run_jobs(todo, backend, on_done,
                              max_workers=max_workers, address=address)
  if not progress:
    study_status.print_status(experiment)
  return summaries
