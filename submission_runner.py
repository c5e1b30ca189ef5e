"""AlgoPerf's `submission_runner.py` flags, mapped onto `algoperf run`.

For people who already script AlgoPerf:

  python submission_runner.py --framework=jax --workload=mnist \
    --submission_path=reference_algorithms/nadamw/submission.py \
    --tuning_search_space=reference_algorithms/nadamw/tuning_search_space.json \
    --num_tuning_trials=1 --experiment_dir=experiments \
    --experiment_name=nadamw --data_dir=~/.cache/algoperf/data

Only the JAX framework exists here. Flags AlgoPerf has but that do not
apply (imagenet_v2_data_dir, torch_compile, ...) are accepted and ignored
with a warning so existing scripts keep working.
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
flags.DEFINE_string('imagenet_v2_data_dir', None, 'Ignored here.')
flags.DEFINE_boolean('torch_compile', False, 'Ignored here.')
flags.DEFINE_boolean('overwrite', False, 'Ignored: finished trials are '
                     'never overwritten.')
flags.DEFINE_boolean('save_checkpoints', True, 'Ignored here.')
flags.mark_flags_as_required(['workload', 'submission_path',
                              'experiment_dir', 'experiment_name'])

FLAGS = flags.FLAGS


def to_cli_args() -> list[str]:
  """Translates AlgoPerf's flags into `algoperf run` arguments."""
  if FLAGS.framework != 'jax':
    raise app.UsageError('Only --framework=jax is supported.')
  for ignored in ('imagenet_v2_data_dir', 'torch_compile', 'overwrite'):
    if FLAGS[ignored].present:
      logging.warning('--%s has no effect here.', ignored)
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


if __name__ == '__main__':
  app.run(main)
