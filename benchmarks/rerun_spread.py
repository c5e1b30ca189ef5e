"""Rerun stability: the self-tuning baseline, one seed, several times.

Each base workload of the CPU suite (or ``--workloads``) is trained
``--repeats`` times by ``algoperf run`` with the same seed. Evals fall on
the workload's step schedule, so the same seed should reach the target at
the same step every time; the time to that step varies with the machine.
Prints per workload: the steps to target of every run and their spread
(goal 0), the submission time to target and its spread max/min - 1 (goal
at most 10% on an idle machine), the compile share of submission time,
and the load average and contention flag beside each run.

  python benchmarks/rerun_spread.py [--repeats 5] [--workloads mnist,...]
"""

import argparse
import os
import pathlib
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import baseline_trials  # noqa: E402

from algoperf import registry  # noqa: E402

TIME_GOAL = 0.10


def spread(values: list) -> float:
  return max(values) / min(values) - 1


def main() -> int:
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--repeats', type=int, default=5)
  parser.add_argument('--workloads', default=None,
                      help='comma-separated (default: the suite\'s bases)')
  parser.add_argument('--seed', type=int, default=0)
  args = parser.parse_args()
  if args.repeats < 2:
    parser.error('--repeats: at least 2 runs are needed for a spread')
  names = (args.workloads.split(',') if args.workloads
           else list(registry.suite('cpu').base_workloads))
  print(f'load average at start: {os.getloadavg()[0]:.1f}; '
        f'{len(os.sched_getaffinity(0))} usable cores; seed {args.seed}, '
        f'{args.repeats} runs per workload')
  start = time.perf_counter()
  with tempfile.TemporaryDirectory() as tmp:
    for name in names:
      trials = [baseline_trials.run(name, pathlib.Path(tmp), f'{name}_{i}',
                                    args.seed)
                for i in range(args.repeats)]
      report(name, trials)
  print(f'\nthis benchmark: {time.perf_counter() - start:.0f} s wall; load '
        f'average at end: {os.getloadavg()[0]:.1f}')
  return 0


def report(name: str, trials: list) -> None:
  print(f'\n{name}:')
  for i, t in enumerate(trials):
    tt = '-' if t.time_to_target is None else f'{t.time_to_target:.2f} s'
    print(f'  run {i}: {t.status:10s} steps to target '
          f'{t.steps_to_target}, time to target {tt}, compile share '
          f'{t.compile_share:.3f}, load {t.load:.1f}, '
          f'contended {"yes" if t.contended else "no"}')
  steps = [t.steps_to_target for t in trials]
  if None in steps:
    print(f'  {steps.count(None)} of {len(trials)} runs missed the target: '
          'no spread')
    return
  times = [t.time_to_target for t in trials]
  shares = [t.compile_share for t in trials]
  print(f'  steps-to-target spread: {max(steps) - min(steps)} steps (goal 0)')
  print(f'  time-to-target spread: {100 * spread(times):.1f}% max/min-1 '
        f'(goal <= {100 * TIME_GOAL:.0f}% idle; '
        f'{sum(t.contended for t in trials)} of {len(trials)} runs flagged '
        'contended)')
  print(f'  compile share of submission time: {min(shares):.3f}-'
        f'{max(shares):.3f}')


if __name__ == '__main__':
  sys.exit(main())
