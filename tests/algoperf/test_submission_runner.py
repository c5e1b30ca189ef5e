"""AlgoPerf's submission_runner.py flags translate onto `algoperf run`."""

import pathlib
import shutil
import subprocess
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


# Every flag of AlgoPerf's submission_runner.py at mlcommons/
# algorithmic-efficiency 2c90454.
ALGOPERF_FLAGS = (
  'submission_path', 'workload', 'tuning_ruleset', 'tuning_search_space',
  'num_tuning_trials', 'data_dir', 'imagenet_v2_data_dir',
  'librispeech_tokenizer_vocab_path', 'framework', 'torch_compile',
  'experiment_dir', 'experiment_name', 'save_checkpoints',
  'save_intermediate_checkpoints', 'resume_last_run', 'append_timestamp',
  'use_wandb', 'profile', 'max_global_steps', 'overwrite',
  'hparam_start_index', 'hparam_end_index', 'rng_seed',
  'set_pytorch_max_split_size', 'pytorch_eval_num_workers',
  'capture_jax_trace', 'skip_evals')
REQUIRED = ('--workload=mnist', '--submission_path=s/submission.py',
            '--experiment_dir=exp', '--experiment_name=n')


def test_every_algoperf_flag_is_accepted_and_each_ignored_one_warns():
  missing = [f for f in ALGOPERF_FLAGS if f not in flags.FLAGS]
  assert not missing, f'AlgoPerf flags not accepted: {missing}'
  flags.FLAGS.unparse_flags()
  flags.FLAGS(['submission_runner.py', *REQUIRED, '--use_wandb',
               '--skip_evals', '--hparam_start_index=2'])
  warnings = submission_runner.ignored_flags_given()
  flags.FLAGS.unparse_flags()
  assert [w.split(' ', 1)[0] for w in warnings] == [
    '--use_wandb', '--hparam_start_index', '--skip_evals']
  assert all('has no effect here: ' in w for w in warnings)


def test_installed_as_a_console_script():
  """Next to the interpreter running the tests: the install's scripts."""
  script = shutil.which('algoperf-submission-runner',
                        path=str(pathlib.Path(sys.executable).parent))
  assert script, 'pip install -e . installs algoperf-submission-runner'
  proc = subprocess.run([script, *REQUIRED, '--framework=pytorch'],
                        capture_output=True, text=True, timeout=120,
                        check=False)
  assert proc.returncode != 0
  assert 'only --framework=jax runs here' in proc.stderr
