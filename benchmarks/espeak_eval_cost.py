"""espeak_conformer: one eval's cost against one training step's, and the
eval share that follows.

Trains the self-tuning NAdamW reference (reference_algorithms/nadamw) for
``--steps`` steps through the workload's input queue, then runs the
workload's own ``eval_model`` (eval_train, validation and test at the
workload's split sizes: what the runner calls at every eval) ``--evals``
times. Prints wall and CPU seconds (this process's) side by side with the
load average, XLA compilations counted during each eval (the eval must
compile once, not per batch or per eval), and the share of a run's wall
time that 20 evals take over a run of N training steps at these costs:
20 E / (N s + 20 E), E seconds per eval and s per step, both measured in
this one run so the ratio holds under load.

  python benchmarks/espeak_eval_cost.py --workload espeak_conformer \
    --steps 60 --evals 3 --horizon 450,900 [--full-length]
"""

import argparse
import functools
import os
import time

import jax
import numpy as np

from algoperf import base_workload
from algoperf import registry
from algoperf import submission as submission_lib

NADAMW = 'reference_algorithms/nadamw'
EVALS_PER_RUN = 20

_compiles = []


def _count_compile(event: str, duration: float, **kwargs) -> None:
  del kwargs
  if event == '/jax/core/compile/backend_compile_duration':
    _compiles.append(duration)


def _clock():
  return time.perf_counter(), time.process_time()


def main():
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--workload', default='espeak_conformer')
  parser.add_argument('--steps', type=int, default=60)
  parser.add_argument('--evals', type=int, default=3)
  parser.add_argument('--horizon', default='450,900',
                      help='comma-separated run lengths in steps')
  parser.add_argument('--data-dir', default=None)
  parser.add_argument('--full-length', action='store_true',
                      help='also time the same evals on full 256-frame '
                      'batches (the generic ArrayWorkload eval), side by side')
  args = parser.parse_args()
  jax.monitoring.register_event_duration_secs_listener(_count_compile)

  workload = registry.make_workload(args.workload)
  submission = submission_lib.load_submission(NADAMW)
  data_rng, opt_rng, model_rng, step_rng = jax.random.split(
    jax.random.PRNGKey(0), 4)
  params, model_state = workload.init_model_fn(model_rng)
  optimizer_state = submission.init_optimizer_state(
    workload, params, model_state, None, opt_rng)
  queue = workload._build_input_queue(data_rng, 'train', args.data_dir,
                                      workload.default_batch_size)
  print(f'{args.workload}: eval_train {workload.num_eval_train_examples}, '
        f'validation {workload.num_validation_examples}, test '
        f'{workload.num_test_examples}, eval batch '
        f'{workload.eval_batch_size}; load average at start '
        f'{os.getloadavg()[0]:.2f}', flush=True)
  # Step 0 compiles; steps 1.. are timed.
  for step in range(args.steps + 1):
    if step == 1:
      wall0, cpu0 = _clock()
    optimizer_state, params, model_state = submission.update_params(
      workload, params, workload.model_params_types, model_state, None,
      next(queue), workload.loss_type, optimizer_state, [], step,
      jax.random.fold_in(step_rng, step))
    jax.block_until_ready(params)
  wall1, cpu1 = _clock()
  queue.close()
  step_wall = (wall1 - wall0) / args.steps
  step_cpu = (cpu1 - cpu0) / args.steps
  print(f'train step: {1000 * step_wall:.1f} ms wall, {1000 * step_cpu:.1f} '
        f'ms CPU (mean of {args.steps}); load average '
        f'{os.getloadavg()[0]:.2f}', flush=True)

  # Load the splits off the clock, as the runner's warm-up does.
  for split in ('eval_train', 'validation', 'test'):
    workload.split_arrays(split, args.data_dir)
  walls, cpus = [], []
  for i in range(args.evals):
    before = len(_compiles)
    wall0, cpu0 = _clock()
    result = workload.eval_model(workload.eval_batch_size, params,
                                 model_state, None, args.data_dir, None, 0)
    wall1, cpu1 = _clock()
    walls.append(wall1 - wall0)
    cpus.append(cpu1 - cpu0)
    print(f'eval {i}: {walls[-1]:.2f} s wall, {cpus[-1]:.2f} s CPU, '
          f'{len(_compiles) - before} compilations '
          f'({sum(_compiles[before:]):.2f} s); validation WER '
          f'{result["validation/wer"]:.4f}, test WER '
          f'{result["test/wer"]:.4f}; load average '
          f'{os.getloadavg()[0]:.2f}', flush=True)
  # Steady state: the evals after the first (which compiles).
  eval_wall = float(np.median(walls[1:] or walls))
  eval_cpu = float(np.median(cpus[1:] or cpus))
  if args.full_length:
    # The generic eval over the same splits, bypassing the length buckets.
    full = functools.partial(base_workload.ArrayWorkload._eval_model_on_split,
                             workload)
    full_walls, full_cpus = [], []
    for i in range(args.evals):
      before = len(_compiles)
      wall0, cpu0 = _clock()
      for split, n in (('eval_train', workload.num_eval_train_examples),
                       ('validation', workload.num_validation_examples),
                       ('test', workload.num_test_examples)):
        full(split, n, workload.eval_batch_size, params, model_state, None,
             args.data_dir)
      wall1, cpu1 = _clock()
      full_walls.append(wall1 - wall0)
      full_cpus.append(cpu1 - cpu0)
      print(f'full-length eval {i}: {full_walls[-1]:.2f} s wall, '
            f'{full_cpus[-1]:.2f} s CPU, {len(_compiles) - before} '
            f'compilations; load average {os.getloadavg()[0]:.2f}',
            flush=True)
    print(f'bucketed / full-length eval (after the first): wall '
          f'{eval_wall / float(np.median(full_walls[1:] or full_walls)):.3f},'
          f' CPU {eval_cpu / float(np.median(full_cpus[1:] or full_cpus)):.3f}')
  print(f'eval / step: {eval_wall / step_wall:.0f} steps of wall time, '
        f'{eval_cpu / step_cpu:.0f} steps of CPU time')
  for horizon in (int(h) for h in args.horizon.split(',')):
    for name, e, s in (('wall', eval_wall, step_wall),
                       ('CPU', eval_cpu, step_cpu)):
      evals = EVALS_PER_RUN * e
      print(f'{EVALS_PER_RUN} evals over {horizon} steps ({name}): '
            f'share {evals / (horizon * s + evals):.3f} '
            f'(train {horizon * s:.1f} s, evals {evals:.1f} s)')
  print(f'load average at end {os.getloadavg()[0]:.2f}')


if __name__ == '__main__':
  main()
