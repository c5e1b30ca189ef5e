"""Every full AlgoPerf workload for a few hundred steps, on synthetic data.

For each workload of ``--suite`` (default: the AlgoPerf suite's eight
bases; ``--variants`` adds the variants) at its default batch size
(AlgoPerf's reference batch sizes): synthetic arrays of the real shapes
(the workload's ``synthetic_arrays``, no data on disk), the shared
reference train step (reference_algorithms/common/train_step.py) with
NAdamW, and prints one row: compile seconds (first step), steps/s over
``--steps`` more steps (blocked before each clock read), examples/s,
peak device memory, and the seconds of one eval pass over a synthetic
split. Rows are flushed as they come, so a run cut by a time limit keeps
what it measured. benchmarks/gpu_check.sh runs it under a 10-minute limit.

  .venv/bin/python benchmarks/gpu_check.py [--steps 200] [--variants]
      [--workloads a,b] [--suite algoperf]
"""

import argparse
import pathlib
import sys
import time
import types

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))


def _peak_memory_gb(jax) -> float | None:
  stats = jax.devices()[0].memory_stats() or {}
  peak = stats.get('peak_bytes_in_use')
  return None if peak is None else peak / 2**30


def check(name: str, steps: int, eval_examples: int) -> dict:
  import jax
  import optax

  from algoperf import registry
  from reference_algorithms.common import train_step

  workload = registry.make_workload(name)
  batch_size = workload.default_batch_size
  workload.use_synthetic_data(num_examples=max(batch_size, eval_examples))
  params, model_state = workload.init_model_fn(jax.random.PRNGKey(0))
  optimizer_state = train_step.init_optimizer_state(
    workload, params, optax.nadamw(1e-4))
  batches = workload._build_input_queue(  # noqa: SLF001 -- the runner's own.
    jax.random.PRNGKey(1), 'train', None, batch_size)
  hp = types.SimpleNamespace(dropout_rate=0.0, label_smoothing=0.0)
  rng = jax.random.PRNGKey(2)

  def step(i, state):
    optimizer_state, params, model_state = state
    return train_step.update_params(workload, params, model_state, hp,
                                    next(batches), optimizer_state, i, rng)

  state = (optimizer_state, params, model_state)
  start = time.perf_counter()
  state = step(0, state)
  jax.block_until_ready(state)
  compile_s = time.perf_counter() - start
  start = time.perf_counter()
  for i in range(1, steps + 1):
    state = step(i, state)
  jax.block_until_ready(state)
  train_s = time.perf_counter() - start
  start = time.perf_counter()
  workload._eval_model_on_split(  # noqa: SLF001
    'validation', eval_examples, workload.eval_batch_size, state[1],
    state[2], rng, None)
  eval_s = time.perf_counter() - start
  batches.close()
  return {'workload': name, 'batch': batch_size,
          'compile s': compile_s, 'steps/s': steps / train_s,
          'examples/s': steps * batch_size / train_s,
          'peak GiB': _peak_memory_gb(jax),
          'eval s (first, incl. compile)': eval_s}


def main() -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--suite', default='algoperf')
  parser.add_argument('--workloads', default='')
  parser.add_argument('--variants', action='store_true')
  parser.add_argument('--steps', type=int, default=200)
  parser.add_argument('--eval-examples', type=int, default=1024)
  args = parser.parse_args()
  import jax

  from algoperf import registry

  suite = registry.suite(args.suite)
  names = ([n for n in args.workloads.split(',') if n]
           or (registry.names(args.suite) if args.variants
               else list(suite.base_workloads)))
  print(f'devices: {jax.devices()}', flush=True)
  columns = ('workload', 'batch', 'compile s', 'steps/s', 'examples/s',
             'peak GiB', 'eval s (first, incl. compile)')
  print(' | '.join(columns), flush=True)
  failed = 0
  for name in names:
    try:
      row = check(name, args.steps, args.eval_examples)
    except Exception as e:  # noqa: BLE001 -- report and go on to the next.
      failed += 1
      print(f'{name} | failed: {type(e).__name__}: {str(e)[:300]}',
            flush=True)
      continue
    print(' | '.join(f'{row[c]:.3g}' if isinstance(row[c], float)
                     else str(row[c]) for c in columns), flush=True)
  return 1 if failed else 0


if __name__ == '__main__':
  sys.exit(main())
