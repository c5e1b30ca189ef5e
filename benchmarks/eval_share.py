"""Eval share of wall time: each base workload of the CPU suite, once.

The self-tuning baseline trains each workload to its target (or to the
end of its budget) with evals on the workload's step schedule
(``eval_every_steps``); the share is the eval accumulator over the timed
loop's wall time, as the trial's status.json records them. Goal (issue
17): at most 0.15 on every base workload.

  python benchmarks/eval_share.py [--workloads mnist,digits_resnet]
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

GOAL = 0.15


def main() -> int:
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--workloads', default=None,
                      help='comma-separated (default: the suite\'s bases)')
  parser.add_argument('--seed', type=int, default=0)
  args = parser.parse_args()
  names = (args.workloads.split(',') if args.workloads
           else list(registry.suite('cpu').base_workloads))
  print(f'load average at start: {os.getloadavg()[0]:.1f}; '
        f'{len(os.sched_getaffinity(0))} usable cores')
  print(f'{"workload":16s} {"status":16s} {"evals":>5s} {"eval s":>7s} '
        f'{"compile":>7s} {"loop s":>7s} {"share":>6s} {"s/eval":>6s} '
        f'{"ms/step":>7s} {"every":>5s} {"needed":>6s}  load contended')
  start, over = time.perf_counter(), []
  with tempfile.TemporaryDirectory() as tmp:
    for name in names:
      trial = baseline_trials.run(name, pathlib.Path(tmp), name, args.seed)
      share = trial.eval_share
      if share > GOAL:
        over.append(name)
      # Where the time goes: one eval's cost against one step's, and the
      # step period at which evals would take GOAL of the loop.
      eval_s = trial.accumulators['accumulated_eval_time']
      per_eval = eval_s / trial.evals
      per_step = (trial.loop_wall - eval_s) / max(trial.steps, 1)
      needed = per_eval * (1 - GOAL) / GOAL / per_step
      every = registry.facts(name).eval_every_steps
      print(f'{name:16s} {trial.status:16s} {trial.evals:5d} {eval_s:7.2f} '
            f'{trial.eval_compile_seconds:7.2f} {trial.loop_wall:7.2f} '
            f'{share:6.3f} {per_eval:6.3f} {1000 * per_step:7.2f} '
            f'{every or "-":>5} {needed:6.0f}  {trial.load:4.1f} '
            f'{"yes" if trial.contended else "no"}', flush=True)
  print('(compile: compilation or cache loads inside evals; every: '
        'eval_every_steps; needed: the period in steps at which evals would '
        f'be {GOAL} of the loop at these costs)')
  print(f'goal: eval share <= {GOAL} on every workload: '
        + (f'missed on {", ".join(over)}' if over else 'met'))
  print(f'this benchmark: {time.perf_counter() - start:.0f} s wall; load '
        f'average at end: {os.getloadavg()[0]:.1f}')
  return 0


if __name__ == '__main__':
  sys.exit(main())
