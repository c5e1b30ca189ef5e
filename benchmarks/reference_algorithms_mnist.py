"""Sanity check: each reference algorithm (self-tuning defaults) on mnist.

Trains with a bare loop (no runner) on the prepared real data, evaluates on
the validation split every ``--eval-every`` steps (eval time excluded) and
prints the first step and training seconds at which validation accuracy
reaches the workload's target, and the best accuracy seen.

  .venv/bin/algoperf data prepare mnist
  .venv/bin/python benchmarks/reference_algorithms_mnist.py [nadamw lion ...]
      [--hparams '{"learning_rate": 0.003}']
"""

import argparse
import json
import pathlib
import time

import jax

from algoperf import submission as submission_lib
from workloads.mnist.workload import MnistWorkload

ROOT = pathlib.Path(__file__).resolve().parents[1] / 'reference_algorithms'


def load_submission(name: str):
  return submission_lib.load_submission(ROOT / name)


def train(name, max_steps, eval_every, seed, hyperparameters=None) -> dict:
  submission = load_submission(name)
  workload = MnistWorkload()
  rng = jax.random.PRNGKey(seed)
  params, model_state = workload.init_model_fn(rng)
  optimizer_state = submission.init_optimizer_state(
    workload, params, model_state, hyperparameters, rng
  )
  batch_size = submission.get_batch_size(workload.name)
  queue = workload._build_input_queue(rng, 'train', None, batch_size)
  prepare = submission.prepare_for_eval
  extra = {}
  if submission.wants_train_data:
    extra['train_data'] = workload.train_data_view(None)
  train_seconds, reached, best = 0.0, None, 0.0
  for step in range(1, max_steps + 1):
    start = time.perf_counter()
    step_rng = jax.random.fold_in(rng, step)
    batch = submission.data_selection(
      workload,
      queue,
      optimizer_state,
      params,
      model_state,
      hyperparameters,
      step,
      step_rng,
      **extra,
    )
    optimizer_state, params, model_state = submission.update_params(
      workload,
      params,
      workload.model_params_types,
      model_state,
      hyperparameters,
      batch,
      workload.loss_type,
      optimizer_state,
      [],
      step - 1,
      step_rng,
    )
    eval_params, eval_state = params, model_state
    if step % eval_every == 0 and prepare is not None:
      optimizer_state, eval_params, eval_state = prepare(
        workload,
        params,
        workload.model_params_types,
        model_state,
        hyperparameters,
        workload.loss_type,
        optimizer_state,
        [],
        step,
        step_rng,
      )
    jax.block_until_ready(eval_params)
    train_seconds += time.perf_counter() - start
    if step % eval_every:
      continue
    accuracy = workload._eval_model_on_split(
      'validation',
      workload.num_validation_examples,
      0,
      eval_params,
      eval_state,
      rng,
      None,
    )['accuracy']
    best = max(best, accuracy)
    if reached is None and accuracy >= workload.validation_target_value:
      reached = (step, train_seconds)
  return {
    'name': name,
    'reached': reached,
    'best': best,
    'steps': max_steps,
    'seconds': train_seconds,
  }


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('names', nargs='*', help='default: every algorithm')
  parser.add_argument('--max-steps', type=int, default=2000)
  parser.add_argument('--eval-every', type=int, default=100)
  parser.add_argument('--seed', type=int, default=0)
  parser.add_argument(
    '--hparams',
    type=json.loads,
    default=None,
    help='JSON dict overriding the self-tuning defaults, e.g. '
    '\'{"selection_ratio": 0.5}\'',
  )
  args = parser.parse_args()
  names = args.names or sorted(
    p.parent.name for p in ROOT.glob('*/submission.py')
  )
  for name in names:
    result = train(
      name, args.max_steps, args.eval_every, args.seed, args.hparams
    )
    if result['reached']:
      step, seconds = result['reached']
      outcome = f'target at step {step} ({seconds:.1f} s)'
    else:
      outcome = 'target not reached'
    print(
      f'{name:22s} {outcome:32s} best val acc {result["best"]:.4f} '
      f'({result["steps"]} steps, {result["seconds"]:.1f} s)',
      flush=True,
    )


if __name__ == '__main__':
  main()
