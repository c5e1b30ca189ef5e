"""Run a submission on one workload (one or more trials) or on the CPU suite.

External tuning: trials take points of the search space (the submission's
tuning_search_space.json unless --search-space is given). Self-tuning: one
trial with hyperparameters=None and a 3x budget, as AlgoPerf.
"""

def add_arguments(parser):
  target = parser.add_mutually_exclusive_group(required=True)
  target.add_argument('--workload', help='workload name (see `algoperf '
                      'workloads`)')
  target.add_argument('--suite', choices=['cpu'],
                      help='run every base workload of the suite')
  parser.add_argument('--submission', required=True,
                      help='submission directory (holding submission.py)')
  parser.add_argument('--ruleset', choices=['external', 'self'],
                      default='external')
  parser.add_argument('--search-space', help='tuning search space JSON '
                      '(default: SUBMISSION/tuning_search_space.json)')
  parser.add_argument('--trials', type=int, default=1,
                      help='number of hyperparameter points to train')
  parser.add_argument('--experiment-dir', required=True)
  parser.add_argument('--name', required=True, help='experiment name')
  parser.add_argument('--rng-seed', type=int, default=0)
  parser.add_argument('--max-steps', type=int, default=None)
  parser.add_argument('--data-dir', default=None)
  parser.add_argument('--no-progress', action='store_true')


def run(args) -> int:
  from algoperf import run_plan

  results = run_plan.run_from_args(args)
  return 0 if all(r.status not in ('error', 'diverged') for r in results) else 1
