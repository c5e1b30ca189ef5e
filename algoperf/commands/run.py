"""Run a submission on one workload (one or more trials) or on the CPU suite.

External tuning: trials take points of the search space (the submission's
tuning_search_space.json unless --search-space is given). Self-tuning: one
trial with hyperparameters=None and a 3x budget, as AlgoPerf.
"""

def positive_int(text: str) -> int:
  import argparse

  try:
    value = int(text)
  except ValueError:
    value = 0
  if value < 1:
    raise argparse.ArgumentTypeError(f'expected an integer >= 1, got {text}')
  return value


def seconds(text: str) -> float:
  import argparse
  import math

  try:
    value = float(text)
  except ValueError:
    value = -1.0
  if not (value >= 0 and math.isfinite(value)):
    raise argparse.ArgumentTypeError(f'expected seconds >= 0, got {text}')
  return value


def add_trial_arguments(parser) -> None:
  """Flags `run` and `study` share about each trial."""
  import argparse

  parser.add_argument('--max-steps', type=positive_int, default=None,
                      help='stop each trial after N steps (final eval)')
  parser.add_argument('--grace-sec', type=seconds, default=30.0,
                      help='a submission call still running this long after '
                      'the budget is spent is stopped: status timeout '
                      '(default 30)')
  parser.add_argument('--synthetic-data', type=positive_int, default=None,
                      metavar='N', help='serve N random examples per split '
                      'instead of prepared data (smoke tests only: the '
                      'results say nothing about the workload)')
  parser.add_argument('--warmup', action=argparse.BooleanOptionalAction,
                      default=None, help='compile each trial\'s first steps '
                      'off the clock, in a process of their own, before the '
                      'timed one (default: on, off with --synthetic-data)')


def add_arguments(parser):
  target = parser.add_mutually_exclusive_group(required=True)
  target.add_argument('--workload', help='workload name (see `algoperf '
                      'workloads`)')
  target.add_argument('--suite', choices=['cpu', 'algoperf'],
                      help='run every base workload of the suite (algoperf: '
                      'AlgoPerf\'s eight full-size workloads, for GPUs)')
  parser.add_argument('--submission', required=True,
                      help='submission directory (holding submission.py)')
  parser.add_argument('--ruleset', choices=['external', 'self'],
                      default='external')
  parser.add_argument('--search-space', help='tuning search space JSON '
                      '(default: SUBMISSION/tuning_search_space.json)')
  parser.add_argument('--trials', type=positive_int, default=1,
                      help='number of hyperparameter points to train')
  parser.add_argument('--experiment-dir', required=True)
  parser.add_argument('--name', required=True, help='experiment name')
  parser.add_argument('--rng-seed', type=int, default=0)
  add_trial_arguments(parser)
  parser.add_argument('--data-dir', default=None)
  parser.add_argument('--no-progress', action='store_true')


def run(args) -> int:
  from algoperf import run_plan
  from algoperf import study_driver

  return study_driver.exit_code(run_plan.run_from_args(args), 'run')
