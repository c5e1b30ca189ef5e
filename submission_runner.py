"""AlgoPerf's `submission_runner.py` flags, mapped onto `algoperf run`.

For people who already script AlgoPerf. Installed as the console script
``algoperf-submission-runner`` (and as the module ``submission_runner``, so
``python -m submission_runner`` works as in an AlgoPerf install):

  algoperf-submission-runner --framework=jax --workload=mnist \
    --submission_path=reference_algorithms/nadamw/submission.py \
    --tuning_search_space=reference_algorithms/nadamw/tuning_search_space.json \
    --num_tuning_trials=1 --experiment_dir=experiments \
    --experiment_name=nadamw --data_dir=~/.cache/algoperf/data

Only the JAX framework exists here. Every other flag of AlgoPerf's
submission_runner.py (at mlcommons/algorithmic-efficiency 2c90454) is
accepted so that existing scripts keep working, and each one given is
ignored with a warning that says why.
"""

import pathlib
import sys

from absl import app
from absl import flags
from absl import logging

flags.DEFINE_enum('framework', 'jax', ['jax', 'pytorch'], 'Only jax runs.')
flags.DEFINE_string('workload', None, 'Workload name.')
flags.DEFINE_string('submission_path', None, 'Path to submission.py.')
flags.DEFINE_enum('tuning_ruleset', 'external', ['external', 'self'],
                  'Tuning ruleset.')
flags.DEFINE_string('tuning_search_space', None, 'Search space JSON.')
flags.DEFINE_integer('num_tuning_trials', 1, 'Number of trials.')
flags.DEFINE_string('experiment_dir', None, 'Output root directory.')
flags.DEFINE_string('experiment_name', None, 'Experiment name.')
flags.DEFINE_string('data_dir', None, 'Prepared data directory.')
flags.DEFINE_integer('rng_seed', 0, 'Seed.')
flags.DEFINE_integer('max_global_steps', None, 'Stop after this many steps.')

# AlgoPerf's flags that have no effect here: (kind, default, why).
IGNORED = {
  'imagenet_v2_data_dir': ('string', None, 'no ImageNet-v2 workload here'),
  'librispeech_tokenizer_vocab_path': (
    'string', '', 'no LibriSpeech workload here'),
  'torch_compile': ('boolean', True, 'only JAX runs here'),
  'save_checkpoints': (
    'boolean', True, 'trials always checkpoint at evals (off the clock) '
    'and remove the checkpoint when done'),
  'save_intermediate_checkpoints': (
    'boolean', True, 'only the latest checkpoint is kept'),
  'resume_last_run': (
    'boolean', None, 'an interrupted trial always resumes from its '
    'checkpoint, and a finished one is never rerun'),
  'append_timestamp': (
    'boolean', False, 'experiment names are used as given'),
  'use_wandb': ('boolean', False, 'no Weights & Biases logging here'),
  'profile': ('boolean', False, 'no profiler output here'),
  'overwrite': (
    'boolean', False, 'finished trials are never overwritten'),
  'hparam_start_index': (
    'integer', None, 'trials take the first --num_tuning_trials points'),
  'hparam_end_index': (
    'integer', None, 'trials take the first --num_tuning_trials points'),
  'set_pytorch_max_split_size': ('boolean', False, 'only JAX runs here'),
  'pytorch_eval_num_workers': ('integer', 0, 'only JAX runs here'),
  'capture_jax_trace': ('boolean', False, 'no profiler output here'),
  'skip_evals': (
    'boolean', False, 'evals decide when a trial reaches its target, so '
    'they always run (off the clock)'),
}
for _name, (_kind, _default, _why) in IGNORED.items():
  getattr(flags, f'DEFINE_{_kind}')(_name, _default, f'Ignored: {_why}.')
flags.mark_flags_as_required(['workload', 'submission_path',
                              'experiment_dir', 'experiment_name'])

FLAGS = flags.FLAGS


def ignored_flags_given() -> list[str]:
  """One warning per ignored AlgoPerf flag given on the command line."""
  return [f'--{name} has no effect here: {IGNORED[name][2]}.'
          for name in IGNORED if FLAGS[name].present]


def to_cli_args() -> list[str]:
  """Translates AlgoPerf's flags into `algoperf run` arguments."""
  if FLAGS.framework != 'jax':
    raise app.UsageError(
      f'--framework={FLAGS.framework}: only --framework=jax runs here; '
      'run PyTorch submissions with AlgoPerf itself.')
  for warning in ignored_flags_given():
    logging.warning(warning)
  args = [
    'run', '--workload', FLAGS.workload,
    '--submission', str(pathlib.Path(FLAGS.submission_path).parent),
    '--ruleset', FLAGS.tuning_ruleset,
    '--trials', str(FLAGS.num_tuning_trials),
    '--experiment-dir', FLAGS.experiment_dir,
    '--name', FLAGS.experiment_name,
    '--rng-seed', str(FLAGS.rng_seed),
  ]
  if FLAGS.tuning_search_space:
    args += ['--search-space', FLAGS.tuning_search_space]
  if FLAGS.data_dir:
    args += ['--data-dir', FLAGS.data_dir]
  if FLAGS.max_global_steps:
    args += ['--max-steps', str(FLAGS.max_global_steps)]
  return args


def main(argv):
  del argv
  from algoperf import cli

  sys.exit(cli.main(to_cli_args()))


def console_main():
  """The ``algoperf-submission-runner`` console script."""
  app.run(main)


if __name__ == '__main__':
  console_main()
