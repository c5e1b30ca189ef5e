"""Show the trials of an experiment directory: state, step, best metric vs
target, submission time vs budget, ETA -- read from disk, so it also works
for a study that is still running (elsewhere too, on a shared directory)."""


def add_arguments(parser):
  parser.add_argument('experiment_dir', metavar='EXPERIMENT_DIR',
                      help='--experiment-dir of a study (or one experiment '
                      'inside it)')


def run(args) -> int:
  import pathlib

  from algoperf import study_status
  from algoperf.errors import AlgoperfError

  if not pathlib.Path(args.experiment_dir).is_dir():
    raise AlgoperfError(f'{args.experiment_dir}: no such directory.')
  rows = study_status.print_status(args.experiment_dir)
  if not rows:
    raise AlgoperfError(f'{args.experiment_dir}: no trials found (expected '
                        '<name>/study_<k>/<workload>_jax/trial_<i>/).')
  return 0
