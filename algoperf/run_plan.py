"""Turn `algoperf run` arguments into trials, run them, print a summary.

`algoperf run` is study 0 of a one-study study: it goes through
``study_driver.run_trials`` like every writer (the experiment lock, the
recorded plan, each trial supervised in its own process), one trial after
the other with its progress line shown here.
"""

import dataclasses
import pathlib

from algoperf import console
from algoperf import fs
from algoperf import host_paths
from algoperf import records
from algoperf import study
from algoperf import study_backends
from algoperf import study_driver
from algoperf import submission as submission_lib
from algoperf import trial_io


def spec_from_args(args) -> study.StudySpec:
  from algoperf import registry

  names = (registry.suite(args.suite).base_workloads if args.suite
           else (args.workload,))
  return study.StudySpec(
    submission=args.submission, workloads=names,
    experiment_dir=args.experiment_dir, name=args.name, ruleset=args.ruleset,
    num_studies=1, num_trials=args.trials, rng_seed=args.rng_seed,
    search_space=args.search_space, data_dir=args.data_dir,
    max_steps=args.max_steps, synthetic_data=args.synthetic_data,
    grace_sec=args.grace_sec, warmup=args.warmup)


def _refuse_finished(job) -> None:
  """Unlike `algoperf study`, `run` does not skip a finished trial."""
  status = records.read_json(job.trial_dir / records.STATUS)
  raise trial_io.TrialExistsError(
    f'{job.trial_dir} already holds a finished trial (status '
    f'{status.get("status")!r}). Choose another --name or --experiment-dir, '
    'or delete that directory to run it again.')


def run_from_args(args) -> list[dict]:
  """Trains the trials one after the other; returns their summaries.

  A finished trial is an error (TrialExistsError) rather than skipped; an
  interrupted one resumes from its checkpoint.
  """
  spec = spec_from_args(args)
  study_driver.check_spec(spec)
  submission = submission_lib.load_submission(args.submission)
  jobs = [dataclasses.replace(job, config=dataclasses.replace(
    job.config, progress=not args.no_progress))
    for job in study.plan_trials(spec, submission)]
  study_driver.check_data(spec)
  fs.check_writable_dir(spec.experiment_dir, '--experiment-dir')
  outcome = study_driver.run_trials(
    [study_driver.Plan(spec, tuple(jobs))],
    study_driver.Dispatch(study_backends.LOCAL, show_output=True),
    check_finished=_refuse_finished)
  _print_summary(outcome.summaries)
  return list(outcome.summaries)


def _print_summary(summaries) -> None:
  from algoperf import trial_table

  rows = [_summary_row(s) for s in summaries]
  console.console().print(trial_table.render(rows, 'Trials'))


def _summary_row(summary: dict) -> dict:
  """The table row of one trial: its status.json, with the supervisor's
  outcome (which also covers a trial that never wrote status.json)."""
  from algoperf import study_status

  status = _status(summary['trial_dir'])
  row = study_status.row_of(status)
  path = pathlib.Path(summary['trial_dir'])
  trial = path.name.rsplit('trial_', 1)[-1]
  row.update(
    experiment=path.parents[2].name,
    workload=summary.get('workload') or status.get('workload', '?'),
    trial=status.get('trial', trial), state=summary['status'],
    message=host_paths.to_host(summary.get('message', '')),
    step=summary.get('global_step', row['step']), eta=None, phase=None)
  return row


def _status(trial_dir: str) -> dict:
  try:
    return records.read_json(pathlib.Path(trial_dir)
                             / records.STATUS)
  except (OSError, ValueError):
    return {}
