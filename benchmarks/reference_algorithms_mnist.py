"""Sanity check: each reference algorithm (self-tuning defaults) on mnist.

Trains each through ``algoperf.runner.run_trial`` (the code behind
``algoperf run``) on the prepared real data, to ``--max-steps`` with no time
limit and without stopping at the target, evaluating every ``--eval-every``
steps; prints the first step and submission seconds at which validation
accuracy reaches the workload's target, and the best accuracy seen. Trial
files go to a temporary directory.

  .venv/bin/algoperf data prepare mnist
  .venv/bin/python benchmarks/reference_algorithms_mnist.py [nadamw lion ...]
      [--hparams '{"learning_rate": 0.003}']
"""

import argparse
import json
import pathlib
import tempfile

from algoperf import registry
from algoperf import runner
from algoperf import submission as submission_lib

ROOT = pathlib.Path(__file__).resolve().parents[1] / 'reference_algorithms'
NO_TIME_LIMIT = 1e6  # Budget multiplier: a run ends at --max-steps only.


def train(name, max_steps, eval_every, seed, hyperparameters=None) -> dict:
  """``hyperparameters`` override the algorithm's self-tuning defaults."""
  workload = registry.make_workload('mnist')
  rows = []
  with tempfile.TemporaryDirectory() as experiment_dir:
    config = runner.RunConfig(
      experiment_dir=experiment_dir, experiment_name=name, rng_seed=seed,
      hyperparameters=hyperparameters, budget_multiplier=NO_TIME_LIMIT,
      max_steps=max_steps, progress=False, eval_every_steps=eval_every,
      checkpoint_every_sec=None, stop_at_target=False)
    result = runner.run_trial(
      workload, submission_lib.load_submission(ROOT / name), config,
      on_eval=rows.append)
  curve = [(r['global_step'], r['accumulated_submission_time'],
            r['validation/accuracy']) for r in rows]
  target = workload.validation_target_value
  return {
    'name': name,
    'reached': next(((s, t) for s, t, acc in curve if acc >= target), None),
    'best': max(acc for _, _, acc in curve),
    'steps': result.global_step,
    'seconds': result.accumulated_submission_time,
  }


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('names', nargs='*', help='default: every algorithm')
  parser.add_argument('--max-steps', type=int, default=2000)
  parser.add_argument('--eval-every', type=int, default=100)
  parser.add_argument('--seed', type=int, default=0)
  parser.add_argument(
    '--hparams', type=json.loads, default=None,
    help='JSON dict overriding the self-tuning defaults, e.g. '
    '\'{"selection_ratio": 0.5}\'')
  args = parser.parse_args()
  names = args.names or sorted(
    p.parent.name for p in ROOT.glob('*/submission.py'))
  for name in names:
    result = train(name, args.max_steps, args.eval_every, args.seed,
                   args.hparams)
    if result['reached']:
      step, seconds = result['reached']
      outcome = f'target at step {step} ({seconds:.1f} s)'
    else:
      outcome = 'target not reached'
    print(f'{name:22s} {outcome:32s} best val acc {result["best"]:.4f} '
          f'({result["steps"]} steps, {result["seconds"]:.1f} s)', flush=True)


if __name__ == '__main__':
  main()
