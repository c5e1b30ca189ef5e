"""Turn `algoperf run` arguments into trials, run them, print a summary."""

import dataclasses
import pathlib

from algoperf import console
from algoperf import records
from algoperf import runner
from algoperf import study
from algoperf import submission as submission_lib


def spec_from_args(args) -> study.StudySpec:
  """`algoperf run` is study 0 of a one-study study, run in-process."""
  from algoperf import registry

  names = (registry.suite(args.suite).base_workloads if args.suite
           else (args.workload,))
  return study.StudySpec(
    submission=args.submission, workloads=names,
    experiment_dir=args.experiment_dir, name=args.name, ruleset=args.ruleset,
    num_studies=1, num_trials=args.trials, rng_seed=args.rng_seed,
    search_space=args.search_space, data_dir=args.data_dir,
    max_steps=args.max_steps)


def run_from_args(args) -> list:
  """Trains the trials one after the other, with a progress line each.

  Unlike `algoperf study`, a finished trial is an error (TrialExistsError)
  rather than skipped; an interrupted one resumes from its checkpoint.
  """
  from algoperf import registry

  submission = submission_lib.load_submission(args.submission)
  jobs = study.plan_trials(spec_from_args(args), submission)
  results = []
  for job in jobs:
    workload = registry.make_workload(job.workload)
    # plan_trials already applied the ruleset's budget multiplier.
    config = dataclasses.replace(job.config, progress=not args.no_progress)
    results.append((workload, _run_one(workload, submission, config)))
  _print_summary(results)
  return [r for _, r in results]


def _run_one(workload, submission, config):
  from algoperf import progress

  budget = workload.max_allowed_runtime_sec * config.budget_multiplier
  with progress.trial_progress(workload, budget, config.progress) as on_eval:
    return runner.run_trial(workload, submission, config, on_eval=on_eval)


def _print_summary(results) -> None:
  from rich.table import Table

  table = Table(title='Trials')
  for column in ('workload', 'trial', 'status', 'steps', 'submission s',
                 'val metric', 'target', 'message'):
    table.add_column(column)
  for workload, r in results:
    metric = workload.target_metric_name
    value = r.last_eval.get(f'validation/{metric}')
    table.add_row(
      workload.name, pathlib.Path(r.trial_dir).name, _styled(r.status),
      str(r.global_step), f'{r.accumulated_submission_time:.1f}',
      f'{value:.4f}' if value is not None else '-',
      f'{workload.validation_target_value}', r.message)
  if len(results) > 1:
    reached = [r for _, r in results if r.status == records.TARGET_REACHED]
    total = sum(r.accumulated_submission_time for r in reached)
    table.caption = (f'{len(reached)}/{len(results)} reached the target; '
                     f'{total:.1f} s of submission time in those.')
  console.console().print(table)


def _styled(status: str) -> str:
  color = {records.TARGET_REACHED: 'green', records.ERROR: 'red',
           records.DIVERGED: 'red'}.get(status, 'yellow')
  return f'[{color}]{status}[/{color}]'
