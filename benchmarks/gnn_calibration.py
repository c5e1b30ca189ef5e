"""A CPU-suite workload under the self-tuning NAdamW: accuracy over a
horizon, compile seconds, train seconds per step and eval seconds per eval.

Used to choose zinc_gnn's PROVISIONAL facts (workloads/zinc_gnn/README.md,
"Calibration"). It drives reference_algorithms/nadamw's self-tuning point
(hyperparameters None; its schedule reads the workload's ``step_hint``)
through the workload's input queue and its own ``eval_model`` (eval_train,
validation and test at the workload's sizes), without the runner. Every
time is printed as wall and process CPU seconds with the load average:
on a loaded machine, CPU seconds are the better estimate of an idle run.

  nice -n 19 python benchmarks/gnn_calibration.py --workload zinc_gnn \
    --steps 1200 --eval-every 100 --seed 0
"""

import argparse
import os
import time

import jax

from algoperf import registry
from algoperf import submission as submission_lib

NADAMW = 'reference_algorithms/nadamw'


class _Clock:
  """Wall and process-CPU seconds accumulated over ``with`` blocks."""

  def __init__(self):
    self.wall = self.cpu = 0.0

  def __enter__(self):
    self._start = (time.perf_counter(), time.process_time())

  def __exit__(self, *_):
    self.wall += time.perf_counter() - self._start[0]
    self.cpu += time.process_time() - self._start[1]


def _load() -> str:
  return '/'.join(f'{x:.1f}' for x in os.getloadavg())


def main():
  parser = argparse.ArgumentParser(description=__doc__)
  parser.add_argument('--workload', default='zinc_gnn')
  parser.add_argument('--steps', type=int, default=1200)
  parser.add_argument('--eval-every', type=int, default=100)
  parser.add_argument('--seed', type=int, default=0)
  parser.add_argument('--data-dir', default=None)
  args = parser.parse_args()

  workload = registry.make_workload(args.workload)
  submission = submission_lib.load_submission(NADAMW)
  data_rng, opt_rng, model_rng, step_rng = jax.random.split(
    jax.random.PRNGKey(args.seed), 4)
  params, model_state = workload.init_model_fn(model_rng)
  optimizer_state = submission.init_optimizer_state(
    workload, params, model_state, None, opt_rng)
  queue = workload._build_input_queue(data_rng, 'train', args.data_dir,
                                      workload.default_batch_size)
  workload.split_arrays('validation', args.data_dir)  # Loading isn't eval.
  workload.split_arrays('test', args.data_dir)
  first, train, evals = _Clock(), _Clock(), []
  print(f'{args.workload} seed {args.seed} step_hint {workload.step_hint} '
        f'eval sizes {workload.num_eval_train_examples}/'
        f'{workload.num_validation_examples}/{workload.num_test_examples} '
        f'load {_load()}', flush=True)
  for step in range(args.steps):
    with first if step == 0 else train:
      optimizer_state, params, model_state = submission.update_params(
        workload, params, workload.model_params_types, model_state, None,
        next(queue), workload.loss_type, optimizer_state, [], step,
        jax.random.fold_in(step_rng, step))
      jax.block_until_ready(params)
    if step == 0:
      print(f'first step (compiles): wall {first.wall:.2f} s cpu '
            f'{first.cpu:.2f} s', flush=True)
    if (step + 1) % args.eval_every and step + 1 != args.steps:
      continue
    clock = _Clock()
    with clock:
      results = workload.eval_model(workload.eval_batch_size, params,
                                    model_state, None, args.data_dir, None,
                                    step + 1)
    evals.append(clock)
    print(f'step {step + 1}: val acc {results["validation/accuracy"]:.4f} '
          f'test acc {results["test/accuracy"]:.4f} train acc '
          f'{results["train/accuracy"]:.4f} | train wall {train.wall:.1f} s '
          f'cpu {train.cpu:.1f} s ({1e3 * train.cpu / max(step, 1):.1f} '
          f'cpu ms/step) | eval wall {clock.wall:.2f} s cpu {clock.cpu:.2f} '
          f's | load {_load()}', flush=True)
  getattr(queue, "close", lambda: None)()
  later = evals[1:] or evals
  print(f'summary: compile (first step) cpu {first.cpu:.2f} s; train cpu '
        f'{train.cpu:.1f} s over {args.steps - 1} steps; first eval (compiles)'
        f' cpu {evals[0].cpu:.2f} s; later evals cpu '
        f'{sum(c.cpu for c in later) / len(later):.2f} s each (wall '
        f'{sum(c.wall for c in later) / len(later):.2f}); load {_load()}')


if __name__ == '__main__':
  main()
