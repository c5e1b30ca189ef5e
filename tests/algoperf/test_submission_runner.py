"""AlgoPerf's submission_runner.py flags translate onto `algoperf run`."""

import sys

from absl import flags

from tests.conftest import REPO

sys.path.insert(0, str(REPO))
import submission_runner  # noqa: E402


def test_flags_translate_to_run_arguments():
  flags.FLAGS.unparse_flags()
  flags.FLAGS([
    'submission_runner.py', '--framework=jax', '--workload=mnist',
    '--submission_path=reference_algorithms/nadamw/submission.py',
    '--tuning_search_space=space.json', '--num_tuning_trials=3',
    '--experiment_dir=exp', '--experiment_name=n', '--rng_seed=7',
    '--max_global_steps=50', '--data_dir=d'])
  args = submission_runner.to_cli_args()
  assert args[:2] == ['run', '--workload']
  pairs = dict(zip(args[1::2], args[2::2]))
  assert pairs['--submission'] == 'reference_algorithms/nadamw'
  assert pairs['--trials'] == '3' and pairs['--rng-seed'] == '7'
  assert pairs['--search-space'] == 'space.json'
  assert pairs['--max-steps'] == '50' and pairs['--data-dir'] == 'd'
  assert pairs['--name'] == 'n' and pairs['--experiment-dir'] == 'exp'
  flags.FLAGS.unparse_flags()
