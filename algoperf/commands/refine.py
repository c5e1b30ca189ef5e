"""Write a refined learning-rate schedule (Defazio et al. 2023) from the
gradient norms (grad_norms.csv) of a finished trial. The schedule peaks at 1;
reference_algorithms/refined multiplies it by its tuned learning rate."""


def add_arguments(parser):
  parser.add_argument(
    'run_dir',
    metavar='RUN_DIR',
    help='trial directory holding grad_norms.csv (or a '
    'directory with exactly one trial below it)',
  )
  parser.add_argument(
    '-o', '--output', required=True, help='schedule JSON to write'
  )
  parser.add_argument(
    '--norm',
    choices=('l1', 'l2'),
    default='l1',
    help='l1: Adam-type weights g^-1 (default); l2: SGD-type weights g^-2',
  )
  parser.add_argument(
    '--steps',
    type=int,
    default=None,
    help="length of the written schedule (default: the run's number of steps)",
  )


def find_grad_norms(run_dir):
  """The one grad_norms.csv at or below ``run_dir``."""
  import pathlib

  from algoperf.errors import AlgoperfError

  run_dir = pathlib.Path(run_dir)
  if not run_dir.is_dir():
    raise AlgoperfError(f'{run_dir}: no such directory.')
  direct = run_dir / 'grad_norms.csv'
  if direct.is_file():
    return direct
  found = sorted(run_dir.rglob('grad_norms.csv'))
  if len(found) == 1:
    return found[0]
  if not found:
    raise AlgoperfError(
      f'{run_dir}: no grad_norms.csv below it; run a submission whose train '
      'step logs gradient norms (e.g. reference_algorithms/'
      'linear_decay_nadamw) with `algoperf run` first.'
    )
  raise AlgoperfError(
    f'{run_dir}: {len(found)} trials hold grad_norms.csv; name one of: '
    + ', '.join(str(p.parent) for p in found[:10])
  )


def run(args) -> int:
  import json
  import pathlib

  from algoperf import refined_schedule as rs
  from algoperf.errors import AlgoperfError

  path = find_grad_norms(args.run_dir)
  try:
    steps, norms = rs.read_grad_norms(path, args.norm)
    values = rs.refine(norms, args.norm)
    if args.steps is not None:
      values = rs.resample(values, args.steps)
  except ValueError as e:
    raise AlgoperfError(str(e)) from None
  window = max(round(rs.WINDOW_FRACTION * len(norms)), 1)
  document = rs.schedule_document(
    values, args.norm, str(path), len(norms), window
  )
  output = pathlib.Path(args.output)
  output.parent.mkdir(parents=True, exist_ok=True)
  output.write_text(json.dumps(document) + '\n')
  print(
    f'{output}: {len(values)} steps from {len(norms)} norms '
    f'(steps {steps[0]}..{steps[-1]}), {args.norm}, peak at step '
    f'{document["peak_step"]}.'
  )
  return 0
