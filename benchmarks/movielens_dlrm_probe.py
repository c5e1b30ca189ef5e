"""The movielens_dlrm family under the self-tuning NAdamW reference: the
log-loss per step, its relative standard error, and what a step and an
eval cost.

Used to choose the family's PROVISIONAL targets, budget, step hint, eval
period and model size. It drives reference_algorithms/nadamw's own
``init_optimizer_state`` / ``update_params`` with hyperparameters None
(self-tuning, the baseline ``scripts/target_resolution.py measure`` trains
for a family without tuning runs) through the workload's input queue,
without the runner. At every eval it times the harness's full eval
(eval_train, validation and test: ``eval_model``) and scores each
validation row alone (``per_example.per_example_sums``, untimed) for the
relative SE of the log-loss: std(row losses) / sqrt(n) / mean. Train
seconds (wall and CPU) include compilation and exclude evals, as the
harness's clock does. ``--set`` tries other model sizes and
``--batch-size`` other batches (calibration only: the facts come from the
class). Load average is printed beside the times; time a real trial
with `algoperf run`.

  nice -n 19 python benchmarks/movielens_dlrm_probe.py --steps 3000 \
    --eval-every 200 --step-hint 4000
"""

import argparse
import os
import time

import jax
import numpy as np

from algoperf import registry
from algoperf import submission as submission_lib
from algoperf.target_setting import per_example

NADAMW = 'reference_algorithms/nadamw'


def _workload(name: str, settings: list[str], batch_size: int | None):
  cls = registry.get_workload_class(name)
  overrides = {}
  for setting in settings:
    key, value = setting.split('=', 1)
    overrides[key] = eval(value, {})  # noqa: S307 -- a calibration flag.
  if batch_size:
    overrides['default_batch_size'] = batch_size
  return type(cls.__name__, (cls,), overrides)() if overrides else cls()


def main():
  parser = argparse.ArgumentParser(description=__doc__)
  parser.add_argument('--workload', default='movielens_dlrm')
  parser.add_argument('--steps', type=int, default=3000)
  parser.add_argument('--eval-every', type=int, default=200)
  parser.add_argument('--step-hint', type=int, default=None)
  parser.add_argument('--batch-size', type=int, default=None)
  parser.add_argument('--set', action='append', default=[],
                      help='model setting, e.g. embed_dim=64')
  parser.add_argument('--seed', type=int, default=0)
  parser.add_argument('--data-dir', default=None)
  args = parser.parse_args()

  workload = _workload(args.workload, args.set, args.batch_size)
  if args.step_hint:
    workload.override_facts(step_hint=args.step_hint)
  submission = submission_lib.load_submission(NADAMW)
  rng = jax.random.PRNGKey(args.seed)
  data_rng, opt_rng, model_rng, step_rng = jax.random.split(rng, 4)
  params, model_state = workload.init_model_fn(model_rng)
  optimizer_state = submission.init_optimizer_state(
    workload, params, model_state, None, opt_rng)
  queue = workload._build_input_queue(data_rng, 'train', args.data_dir,
                                      workload.default_batch_size)
  types = workload.model_params_types
  train_s = train_cpu_s = eval_s = eval_cpu_s = 0.0
  evals = 0
  print(f'{args.workload} seed {args.seed} step_hint {workload.step_hint} '
        f'batch {workload.default_batch_size} settings {args.set} params '
        f'{sum(x.size for x in jax.tree.leaves(params))} load '
        f'{os.getloadavg()}', flush=True)
  for step in range(args.steps):
    start, cpu_start = time.perf_counter(), time.process_time()
    optimizer_state, params, model_state = submission.update_params(
      workload, params, types, model_state, None, next(queue),
      workload.loss_type, optimizer_state, [], step,
      jax.random.fold_in(step_rng, step))
    jax.block_until_ready(params)
    train_s += time.perf_counter() - start
    train_cpu_s += time.process_time() - cpu_start
    if step == 0:
      print(f'first step (compiles) {train_s:.2f} s cpu {train_cpu_s:.2f} s',
            flush=True)
    if (step + 1) % args.eval_every and step + 1 != args.steps:
      continue
    start, cpu_start = time.perf_counter(), time.process_time()
    results = workload.eval_model(workload.eval_batch_size, params,
                                  model_state, None, args.data_dir, None,
                                  step + 1)
    eval_s += time.perf_counter() - start
    eval_cpu_s += time.process_time() - cpu_start
    evals += 1
    rows = per_example.per_example_sums(workload, params, model_state,
                                        'validation', args.data_dir)['loss']
    se = rows.std() / np.sqrt(len(rows)) / rows.mean()
    print(f'step {step + 1} train_s {train_s:.1f} cpu_s {train_cpu_s:.1f} '
          f'train_loss {results["train/loss"]:.4f} validation_loss '
          f'{results["validation/loss"]:.4f} test_loss '
          f'{results["test/loss"]:.4f} rel_se {100 * se:.3f}% eval_s/eval '
          f'{eval_s / evals:.3f} cpu {eval_cpu_s / evals:.3f} load '
          f'{os.getloadavg()[0]:.2f}', flush=True)
  queue.close()


if __name__ == '__main__':
  main()
