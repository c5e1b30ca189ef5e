"""Calibrating the Fashion-MNIST families' provisional facts (issue 18).

Trains the self-tuning NAdamW baseline (reference_algorithms/nadamw,
hyperparameters None, as ``algoperf run --ruleset self`` does; batch size
through the harness's fallback: the workload's default) for ``--steps``
steps with ``step_hint`` = ceil(4/3 x steps), evaluating every
``--eval-every`` steps, and prints per eval: accuracy on validation and
test, train seconds (wall and CPU, compilation included, evals
excluded) and each split's eval seconds (wall and CPU). At the end: the
first step's compile seconds (its wall minus the median step's), the first
eval's extra seconds, the median step and eval costs, and the load
average. The machine this runs on is usually busy: the CPU seconds and
the load are printed beside every wall time so that the idle cost can be
estimated (workloads/fashion/README.md says how it was).

  nice -n 19 .venv/bin/python benchmarks/fashion_calibration.py \
    --workload fashion_resnet --steps 4500 --eval-every 300 [--out F.json]
"""

import argparse
import json
import math
import os
import pathlib
import time

import jax
import numpy as np

from algoperf import records
from algoperf import registry
from algoperf import submission_calls
from algoperf.target_setting import per_example

NADAMW = pathlib.Path(__file__).resolve().parents[1] / (
  'reference_algorithms/nadamw')
SPLITS = ('eval_train', 'validation', 'test')


def _timed(fn, *args):
  wall, cpu = time.perf_counter(), time.process_time()
  out = fn(*args)
  return out, time.perf_counter() - wall, time.process_time() - cpu


def run(name: str, steps: int, eval_every: int, seed: int, data_dir,
        step_hint: int | None = None):
  workload = registry.make_workload(name)
  workload.override_facts(step_hint=step_hint or math.ceil(4 * steps / 3))
  start = per_example.begin_training(workload, NADAMW, None, seed, data_dir)
  calls, state, queue, step_rng, batch_size = (
    start.calls, start.state, start.queue, start.step_rng, start.batch_size)
  sizes = {'eval_train': workload.num_eval_train_examples,
           'validation': workload.num_validation_examples,
           'test': workload.num_test_examples}
  print(f'{name}: batch {batch_size}, step_hint {workload.step_hint}, '
        f'splits {sizes}, load {os.getloadavg()}', flush=True)
  step_walls, step_cpus, evals = [], [], []
  for step in range(1, steps + 1):
    def one_step(state, step):
      rng = jax.random.fold_in(step_rng, step)
      batch = calls.data_selection(queue, state, step - 1, rng)
      new = submission_calls.State(*calls.update_params(
        state, batch, [], step - 1, rng, dict))
      jax.block_until_ready(new.params)
      return new
    state, wall, cpu = _timed(one_step, state, step)
    step_walls.append(wall)
    step_cpus.append(cpu)
    if step % eval_every and step != steps:
      continue
    row = {'step': step, 'train_wall': sum(step_walls),
           'train_cpu': sum(step_cpus), 'load': os.getloadavg()[0]}
    for split in SPLITS:
      result, wall, cpu = _timed(
        workload._eval_model_on_split, split, sizes[split],
        workload.eval_batch_size, state.params, state.model_state, None,
        data_dir)
      row[f'{split}/accuracy'] = result['accuracy']
      row[f'{split}/wall'], row[f'{split}/cpu'] = wall, cpu
    evals.append(row)
    print(' '.join(f'{k} {v:.4f}' if isinstance(v, float) else f'{k} {v}'
                   for k, v in row.items()), flush=True)
  getattr(queue, 'close', lambda: None)()
  median_wall = float(np.median(step_walls[1:]))
  summary = {
    'workload': name, 'steps': steps, 'eval_every': eval_every,
    'seed': seed, 'batch_size': batch_size,
    'compile_wall': step_walls[0] - median_wall,
    'compile_cpu': step_cpus[0] - float(np.median(step_cpus[1:])),
    'median_step_wall': median_wall,
    'median_step_cpu': float(np.median(step_cpus[1:])),
    'evals': evals,
  }
  for split in SPLITS:
    walls = [e[f'{split}/wall'] for e in evals]
    summary[f'{split}/eval_wall_median'] = float(np.median(walls[1:]))
    summary[f'{split}/eval_cpu_median'] = float(np.median(
      [e[f'{split}/cpu'] for e in evals][1:]))
    summary[f'{split}/first_eval_extra_wall'] = walls[0] - float(
      np.median(walls[1:]))
  return summary


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--workload', required=True)
  parser.add_argument('--steps', type=int, required=True)
  parser.add_argument('--eval-every', type=int, required=True)
  parser.add_argument('--seed', type=int, default=0)
  parser.add_argument('--data-dir', default=None)
  parser.add_argument('--step-hint', type=int, default=None,
                      help='default ceil(4/3 x steps); set it to rerun a '
                      'short piece of a run (same programs) from a warm '
                      'JAX_COMPILATION_CACHE_DIR')
  parser.add_argument('--out', default=None, help='write the summary (JSON)')
  args = parser.parse_args()
  summary = run(args.workload, args.steps, args.eval_every, args.seed,
                args.data_dir, args.step_hint)
  print(json.dumps({k: v for k, v in summary.items() if k != 'evals'},
                   indent=1))
  if args.out:
    records.write_atomic(pathlib.Path(args.out),
                         json.dumps(summary, indent=1) + '\n')


if __name__ == '__main__':
  main()
