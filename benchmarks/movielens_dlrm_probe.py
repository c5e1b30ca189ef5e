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
import pathlib
import sys
import time

import numpy as np

from algoperf import registry
from algoperf.target_setting import per_example

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import self_tuning_steps  # noqa: E402  Next to this script.


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
  eval_s = eval_cpu_s = 0.0
  evals = 0
  print(f'{args.workload} seed {args.seed} step_hint {workload.step_hint} '
        f'batch {workload.default_batch_size} settings {args.set} load '
        f'{os.getloadavg()}', flush=True)
  for done in self_tuning_steps.train(workload, args.steps, args.seed,
                                      args.data_dir):
    if done.step == 1:
      print(f'first step (compiles) {done.train_s:.2f} s cpu '
            f'{done.train_cpu_s:.2f} s', flush=True)
    if done.step % args.eval_every and done.step != args.steps:
      continue
    start, cpu_start = time.perf_counter(), time.process_time()
    results = workload.eval_model(workload.eval_batch_size, done.params,
                                  done.model_state, None, args.data_dir,
                                  None, done.step)
    eval_s += time.perf_counter() - start
    eval_cpu_s += time.process_time() - cpu_start
    evals += 1
    if evals == 1:
      print(f'first eval (compiles) {eval_s:.2f} s cpu {eval_cpu_s:.2f} s',
            flush=True)
    rows = per_example.per_example_sums(
      workload, done.params, done.model_state, 'validation',
      args.data_dir)['loss']
    se = rows.std() / np.sqrt(len(rows)) / rows.mean()
    print(f'step {done.step} train_s {done.train_s:.1f} cpu_s '
          f'{done.train_cpu_s:.1f} train_loss {results["train/loss"]:.4f} '
          f'validation_loss {results["validation/loss"]:.4f} test_loss '
          f'{results["test/loss"]:.4f} rel_se {100 * se:.3f}% eval_s/eval '
          f'{eval_s / evals:.3f} cpu {eval_cpu_s / evals:.3f} load '
          f'{os.getloadavg()[0]:.2f}', flush=True)

if __name__ == '__main__':
  main()
