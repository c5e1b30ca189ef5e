"""Builds tiny experiment directories in AlgoPerf's layout for the tests."""

import json
import pathlib

# Two base workloads (one maximized, one minimized) and one held-out variant.
TARGETS = {
  'benchmark_version': 'test-1',
  'base_workloads': ['alpha', 'beta'],
  'held_out_workloads': ['alpha_tweak'],
  'workloads': {
    'alpha': {'target_metric_name': 'accuracy', 'metric_direction': 'max',
              'validation_target_value': 0.9, 'step_hint': 100,
              'max_allowed_runtime_sec': 1000},
    'alpha_tweak': {'target_metric_name': 'accuracy',
                    'validation_target_value': 0.8, 'step_hint': 100,
                    'base_name': 'alpha', 'max_allowed_runtime_sec': 1000},
    'beta': {'target_metric_name': 'loss', 'validation_target_value': 0.5,
             'step_hint': 100, 'max_allowed_runtime_sec': 2000},
  },
}
METRIC = {'alpha': 'accuracy', 'alpha_tweak': 'accuracy', 'beta': 'loss'}


def write_targets(directory: pathlib.Path, targets=None) -> str:
  path = directory / 'targets.json'
  path.write_text(json.dumps(targets or TARGETS))
  return str(path)


def write_trial(root: pathlib.Path, submission: str, study: int,
                workload: str, trial: int, metric: list[float],
                times: list[float] | None = None,
                framework: str = 'jax') -> pathlib.Path:
  """One eval_measurements.csv: evals at times 10, 20, ... unless given."""
  times = times or [10.0 * (i + 1) for i in range(len(metric))]
  directory = (root / submission / f'study_{study}' /
               f'{workload}_{framework}' / f'trial_{trial}')
  directory.mkdir(parents=True, exist_ok=True)
  column = f'validation/{METRIC.get(workload, "accuracy")}'
  lines = [f'accumulated_submission_time,global_step,score,{column}']
  for i, (t, v) in enumerate(zip(times, metric)):
    lines.append(f'{t},{100 * (i + 1)},{t},{v}')
  path = directory / 'eval_measurements.csv'
  path.write_text('\n'.join(lines) + '\n')
  return path


def reaching_curve(workload: str, reach_at: int | None, length: int = 6):
  """A metric curve that first meets the workload's target at eval
  ``reach_at`` (0-based), or never when None."""
  minimize = workload == 'beta'
  good, bad = (0.4, 0.9) if minimize else (0.95, 0.1)
  return [good if reach_at is not None and i >= reach_at else bad
          for i in range(length)]


def write_submission(root, submission, reach: dict, studies: int = 1,
                     trials: int = 1, step: float = 10.0):
  """Every workload in ``reach`` (workload -> eval index or None)."""
  for study in range(studies):
    for trial in range(1, trials + 1):
      for workload, reach_at in reach.items():
        curve = reaching_curve(workload, reach_at)
        times = [step * (i + 1) for i in range(len(curve))]
        write_trial(root, submission, study, workload, trial, curve, times)
