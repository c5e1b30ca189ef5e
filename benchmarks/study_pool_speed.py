"""Wall time of a 2-study x 4-trial mnist study: process pool vs sequential.

Both run the same study (reference NAdamW, the first 4 points of its search
space in each study, the same seeds) on real mnist data: once trial after
trial in this process (the ``inline`` backend), once on the local process pool
(one fresh process per trial, as many at once as the cores allow). Trials
stop at ``--max-steps`` so the figure measures the harness, not the target.
Prints both wall times and their ratio.

  python benchmarks/study_pool_speed.py [--max-steps 300] [--data-dir D]
"""

import argparse
import pathlib
import resource
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from algoperf import registry  # noqa: E402
from algoperf import study  # noqa: E402
from algoperf import study_backends  # noqa: E402
from algoperf import study_driver  # noqa: E402
from algoperf.data import dirs  # noqa: E402
from algoperf.data import prepared  # noqa: E402

SUBMISSION = pathlib.Path(__file__).resolve().parents[1] / (
  'reference_algorithms/nadamw')


def _cpu_seconds() -> float:
  """User + system time of this process and its finished children."""
  total = 0.0
  for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
    usage = resource.getrusage(who)
    total += usage.ru_utime + usage.ru_stime
  return total


def run(backend: str, experiment_dir: str, args) -> tuple[float, float]:
  """(wall seconds, CPU seconds) of the whole study on ``backend``."""
  spec = study.StudySpec(
    submission=str(SUBMISSION), workloads=('mnist',),
    experiment_dir=experiment_dir, name=backend, num_studies=2,
    num_trials=4, rng_seed=0, data_dir=args.data_dir,
    max_steps=args.max_steps, eval_every_steps=args.max_steps // 3)
  start, cpu_start = time.perf_counter(), _cpu_seconds()
  summaries = study_driver.run_study(spec, backend=backend,
                                     max_workers=args.max_workers,
                                     progress=False)
  elapsed = time.perf_counter() - start
  cpu = _cpu_seconds() - cpu_start
  bad = [s for s in summaries.values() if s['status'] == 'error']
  assert not bad, bad
  return elapsed, cpu


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--max-steps', type=int, default=300)
  parser.add_argument('--max-workers', type=int, default=None)
  parser.add_argument('--data-dir', default=None)
  args = parser.parse_args()
  data_dir = dirs.resolve_data_dir(args.data_dir)
  prepared.prepare(registry.get_workload_class('mnist').dataset_builder,
                   data_dir)
  args.data_dir = str(data_dir)
  workers = study_backends.pool_size(8, 1.0, args.max_workers)
  with tempfile.TemporaryDirectory() as tmp:
    sequential = run(study_backends.INLINE, tmp, args)
    pool = run(study_backends.POOL, tmp, args)
  print(f'2 studies x 4 trials of mnist, {args.max_steps} steps each, '
        f'{study_backends.usable_cpus()} CPUs')
  print(f'sequential (in-process):  wall {sequential[0]:7.1f} s, '
        f'CPU {sequential[1]:7.1f} s')
  print(f'process pool ({workers} workers): wall {pool[0]:7.1f} s, '
        f'CPU {pool[1]:7.1f} s')
  print(f'speedup (sequential / pool wall time): '
        f'{sequential[0] / pool[0]:.2f}x')

if __name__ == '__main__':
  main()
