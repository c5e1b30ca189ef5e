"""Issue 6's experiment: schedules (cosine, linear, refined) and RS2.

Trains every trial with ``algoperf.runner.run_trial`` (the code behind
``algoperf run``) into ``experiments/issue6/`` (git-ignored), skipping
trials that already finished, so an interrupted run resumes where it
stopped. It then writes the small summaries the page is built from into
``docs/experiments/issue6/`` (committed) and regenerates
``docs/experiments.md`` (tables and a plot) from them alone.

  .venv/bin/python benchmarks/schedule_experiments.py run \
      [--workloads mnist digits_resnet]
  .venv/bin/python benchmarks/schedule_experiments.py page   # from the CSVs

Arms per workload (external tuning: one point of the search space each;
every arm runs once per seed of SETTINGS, one tuning study per seed):
  cosine    reference_algorithms/nadamw on the first K distinct points of
            AlgoPerf's 5-point NAdamW list;
  linear    reference_algorithms/linear_decay_nadamw on the same K points
            (equal tuning budget);
  source    linear_decay_nadamw, self-tuning values, run to step_hint
            without stopping at the target: its gradient norms feed
            ``algoperf refine`` (l1, Adam-type);
  refined   reference_algorithms/refined on the same K points with that
            schedule (warmup_factor 0: the refined shape holds its warmup);
  refined_l2  the same with the l2 (SGD-type, g^-2) refined schedule;
  rs2_*     reference_algorithms/rs2 (self-tuning values, cosine compressed
            to r * step_hint steps) at r in {5, 10, 20}% without
            replacement, a static random subset at r = 10%, and full data
            (r = 1).
Evaluations every ``eval_every_steps`` steps (not AlgoPerf's time-based
period) so steps-to-target has a fine resolution; every trial stops at the
target, at the end of its schedule (max_steps) or at the workload budget.
"""

import argparse
import csv
import dataclasses
import json
import math
import pathlib
import shutil

from algoperf import records  # JAX-free: the page builds without JAX.

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXPERIMENT_DIR = ROOT / 'experiments' / 'issue6'
DATA_DIR = ROOT / 'docs' / 'experiments' / 'issue6'
PAGE = ROOT / 'docs' / 'experiments.md'
ALGORITHMS = ROOT / 'reference_algorithms'
RS2_RATIOS = (0.05, 0.1, 0.2)
FINISHED = (records.TARGET_REACHED, records.BUDGET_EXHAUSTED,
            records.MAX_STEPS, records.TRAINING_COMPLETE, records.DIVERGED)
TRIAL_COLUMNS = ('workload', 'arm', 'point', 'seed', 'status', 'steps',
                 'submission_s', 'steps_to_target', 'time_to_target_s',
                 'best_val', 'target', 'hyperparameters')
CURVE_COLUMNS = ('workload', 'arm', 'point', 'seed', 'step', 'submission_s',
                 'val')


@dataclasses.dataclass(frozen=True)
class Setting:
  num_points: int  # K: points of the search space per schedule arm.
  seeds: tuple  # Seeds (= tuning studies) of every arm but the source.
  eval_every_steps: int


SETTINGS = {
  'mnist': Setting(num_points=4, seeds=(0, 1, 2), eval_every_steps=100),
  'digits_resnet': Setting(num_points=2, seeds=(0, 1, 2), eval_every_steps=50),
}


@dataclasses.dataclass(frozen=True)
class Trial:
  workload: str
  arm: str
  submission: str
  point: int  # Index in the search-space list; -1: self-tuning values.
  seed: int
  hyperparameters: dict | None
  max_steps: int
  stop_at_target: bool = True

  @property
  def name(self) -> str:
    return f'{self.workload}_{self.arm}'

  def directory(self) -> pathlib.Path:
    return records.trial_dir(EXPERIMENT_DIR, self.name, self.seed,
                             self.workload, self.point + 2)


def search_space_points() -> list:
  """AlgoPerf's NAdamW points, duplicates removed, in file order."""
  path = ALGORITHMS / 'linear_decay_nadamw' / 'tuning_search_space.json'
  points = []
  for point in json.loads(path.read_text()):
    if point not in points:
      points.append(point)
  return points


def refined_schedule_path(workload: str, norm: str = 'l1') -> pathlib.Path:
  suffix = '' if norm == 'l1' else f'_{norm}'
  return DATA_DIR / f'refined{suffix}_{workload}.json'


def schedule_trials(workload: str, step_hint: int) -> list:
  setting = SETTINGS[workload]
  points = search_space_points()[: setting.num_points]
  trials = [Trial(workload, 'source', 'linear_decay_nadamw', -1, 0, None,
                  step_hint, stop_at_target=False)]
  for arm, submission in (('cosine', 'nadamw'),
                          ('linear', 'linear_decay_nadamw')):
    trials += [
      Trial(workload, arm, submission, i, seed, point, step_hint)
      for seed in setting.seeds
      for i, point in enumerate(points)
    ]
  trials += [
    Trial(workload, arm, 'refined', i, seed,
          {**point, 'warmup_factor': 0.0,
           'schedule_path': str(refined_schedule_path(workload, norm))},
          step_hint)
    for arm, norm in (('refined', 'l1'), ('refined_l2', 'l2'))
    for seed in setting.seeds
    for i, point in enumerate(points)
  ]
  return trials


def rs2_trials(workload: str, step_hint: int) -> list:
  arms = [(f'rs2_r{int(r * 100)}', r, 'without_replacement')
          for r in RS2_RATIOS]
  arms += [('static_r10', 0.1, 'static_subset'),
           ('full_data', 1.0, 'without_replacement')]
  return [
    Trial(workload, arm, 'rs2', -1, seed,
          {'selection_ratio': r, 'rs2_mode': mode}, math.ceil(r * step_hint))
    for arm, r, mode in arms
    for seed in SETTINGS[workload].seeds
  ]


def _status(trial: Trial) -> dict | None:
  path = trial.directory() / records.STATUS
  return records.read_json(path) if path.is_file() else None


def run_one(trial: Trial) -> None:
  from algoperf import registry
  from algoperf import runner
  from algoperf import submission as submission_lib
  from reference_algorithms.common import hyperparameters as hparams_lib

  status = _status(trial)
  if status and status.get('status') in FINISHED:
    print(
      f'skip {trial.name} point {trial.point} seed {trial.seed}: '
      f'{status["status"]}',
      flush=True,
    )
    return
  workload = registry.make_workload(trial.workload)
  submission = submission_lib.load_submission(ALGORITHMS / trial.submission)
  hyperparameters = trial.hyperparameters
  if hyperparameters is not None:  # Complete points: defaults + overrides.
    defaults = (
      getattr(submission.module, 'DEFAULTS', None)
      or submission.module.SELF_TUNING_DEFAULTS
    )
    hyperparameters = hparams_lib.resolve(hyperparameters, defaults)._asdict()
  config = runner.RunConfig(
    experiment_dir=str(EXPERIMENT_DIR),
    experiment_name=trial.name,
    rng_seed=trial.seed,
    study=trial.seed,
    trial=trial.point + 2,
    hyperparameters=hyperparameters,
    max_steps=trial.max_steps,
    progress=False,
    checkpoint_every_sec=None,
    eval_every_steps=SETTINGS[trial.workload].eval_every_steps,
    stop_at_target=trial.stop_at_target,  # The norm source runs to the end.
  )
  result = runner.run_trial(workload, submission, config)
  print(
    f'{trial.name} point {trial.point} seed {trial.seed}: {result.message}',
    flush=True,
  )


def refine(workload: str) -> None:
  """``algoperf refine`` on the source trial, into the committed data."""
  from algoperf import cli

  source = schedule_trials(workload, 1)[0]
  for norm in ('l1', 'l2'):
    out = refined_schedule_path(workload, norm)
    if not out.is_file():
      out.parent.mkdir(parents=True, exist_ok=True)
      args = ['refine', str(source.directory()), '-o', str(out)]
      assert cli.main([*args, '--norm', norm]) == 0
  shutil.copy(
    source.directory() / 'grad_norms.csv',
    DATA_DIR / f'grad_norms_{workload}_source.csv',
  )


def summarize(trial: Trial) -> tuple | None:
  """(trial row, curve rows) read from the trial's files."""
  status = _status(trial)
  if not status:
    return None
  metric, target = status['target_metric'], status['target_value']
  maximize = status['metric_direction'] == 'max'
  curve = [(row['global_step'], row['accumulated_submission_time'],
            row[metric]) for row in records.read_rows_csv(
              trial.directory() / records.EVAL_MEASUREMENTS)]
  meets = (lambda v: v >= target) if maximize else (lambda v: v <= target)
  reached = next((point for point in curve if meets(point[2])), None)
  values = [v for _, _, v in curve]
  best = max(values) if maximize else min(values)
  row = {
    'workload': trial.workload,
    'arm': trial.arm,
    'point': trial.point,
    'seed': trial.seed,
    'status': status['status'],
    'steps': status['global_step'],
    'submission_s': round(
      status['accumulators']['accumulated_submission_time'], 2),
    'steps_to_target': reached[0] if reached else '',
    'time_to_target_s': round(reached[1], 2) if reached else '',
    'best_val': round(best, 4),
    'target': target,
    'hyperparameters': json.dumps(trial.hyperparameters, sort_keys=True),
  }
  curves = [dict(zip(CURVE_COLUMNS, (trial.workload, trial.arm, trial.point,
                                     trial.seed, s, round(t, 3), round(v, 5))))
            for s, t, v in curve]
  return row, curves


def write_csv(path: pathlib.Path, rows: list, columns) -> None:
  path.parent.mkdir(parents=True, exist_ok=True)
  with open(path, 'w', newline='') as f:
    writer = csv.DictWriter(f, fieldnames=list(columns))
    writer.writeheader()
    writer.writerows(rows)


def all_trials(workloads) -> list:
  from algoperf import registry

  trials = []
  for name in workloads:
    step_hint = registry.make_workload(name).step_hint
    trials += schedule_trials(name, step_hint) + rs2_trials(name, step_hint)
  return trials


def run(workloads) -> None:
  from algoperf import registry

  later = []  # Seeds > 0 of every workload after seed 0 of all of them.
  for name in workloads:
    step_hint = registry.make_workload(name).step_hint
    schedule = schedule_trials(name, step_hint)
    run_one(schedule[0])  # The norm source first; refined needs it.
    refine(name)
    for trial in schedule[1:] + rs2_trials(name, step_hint):
      if trial.seed:
        later.append(trial)
        continue
      run_one(trial)
      collect(workloads)  # Keep the summaries current while running.
  for trial in later:
    run_one(trial)
    collect(workloads)
  collect(workloads)


def collect(workloads) -> None:
  rows, curves = [], []
  for trial in all_trials(workloads):
    summary = summarize(trial)
    if summary:
      rows.append(summary[0])
      curves += summary[1]
  write_csv(DATA_DIR / 'trials.csv', rows, TRIAL_COLUMNS)
  write_csv(DATA_DIR / 'curves.csv', curves, CURVE_COLUMNS)
  write_page()


def write_page() -> None:
  import schedule_experiments_page  # Next to this script.

  schedule_experiments_page.write_page(DATA_DIR, PAGE)


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('action', choices=('run', 'page'))
  parser.add_argument(
    '--workloads', nargs='+', default=list(SETTINGS), choices=list(SETTINGS)
  )
  args = parser.parse_args()
  if args.action == 'run':
    run(args.workloads)
  else:
    write_page()


if __name__ == '__main__':
  main()
