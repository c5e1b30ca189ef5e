"""Turn `algoperf run` arguments into trials, run them, print a summary."""

import pathlib

from algoperf import console
from algoperf import records
from algoperf import runner
from algoperf import seeds
from algoperf import submission as submission_lib
from algoperf import tuning
from algoperf.errors import SearchSpaceError


def trial_hyperparameters(args, submission) -> list:
  """One entry per trial: a point dict (external) or None (self-tuning)."""
  if args.ruleset == 'self':
    return [None]
  path = args.search_space or submission.path.parent / (
    'tuning_search_space.json')
  if not pathlib.Path(path).exists():
    raise SearchSpaceError(
      f'{path}: no search space. External tuning needs one: pass '
      '--search-space JSON, add tuning_search_space.json to the submission, '
      'or use --ruleset self.')
  space = tuning.load_search_space(path)
  seed = seeds.derive_seed('search', args.rng_seed, submission.name)
  return tuning.trial_points(space, args.trials, seed)


def run_from_args(args, self_tuning_multiplier: float) -> list:
  from workloads import registry

  submission = submission_lib.load_submission(args.submission)
  names = list(registry.CPU_SUITE) if args.suite else [args.workload]
  workload_classes = [registry.get_workload_class(n) for n in names]
  points = trial_hyperparameters(args, submission)
  multiplier = self_tuning_multiplier if args.ruleset == 'self' else 1.0
  results = []
  for workload_cls in workload_classes:
    for trial, point in enumerate(points, start=1):
      workload = workload_cls()
      config = runner.RunConfig(
        experiment_dir=args.experiment_dir, experiment_name=args.name,
        rng_seed=seeds.derive_seed(args.rng_seed, submission.name, 0,
                                   workload.name, trial),
        study=0, trial=trial, hyperparameters=point, ruleset=args.ruleset,
        budget_multiplier=multiplier, data_dir=args.data_dir,
        max_steps=args.max_steps, progress=not args.no_progress)
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
