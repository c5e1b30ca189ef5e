"""Prepare datasets (download pinned packages or generate) into the data
dir, or verify prepared ones against their manifests (sizes and sha256)."""


def _names_arguments(parser) -> None:
  parser.add_argument('names', nargs='*', metavar='NAME',
                      help='workload names (their datasets are used)')
  parser.add_argument('--all', action='store_true',
                      help='the datasets of every CPU-suite workload (the '
                      'AlgoPerf suite\'s are prepared one by one, each from '
                      'its --source)')
  parser.add_argument('--data-dir', default=None,
                      help='where prepared data lives (default: '
                      '$ALGOPERF_DATA_DIR or ~/.cache/algoperf/data)')


def add_arguments(parser):
  sub = parser.add_subparsers(dest='data_command', metavar='ACTION',
                              required=True)
  prep = sub.add_parser('prepare', help='prepare datasets for workloads')
  _names_arguments(prep)
  prep.add_argument('--source', default=None, metavar='DIR',
                    help='AlgoPerf suite: the folder holding your copy of '
                    'the raw files AlgoPerf\'s data instructions produce '
                    '(README: "AlgoPerf suite"); ignored by the CPU suite')
  prep.add_argument('--force', action='store_true',
                    help='delete the prepared copy first and prepare it '
                    'again (repairs corrupted data)')
  verify = sub.add_parser('verify', help='check prepared datasets against '
                          'their manifests (every file\'s sha256)')
  _names_arguments(verify)


def run(args) -> int:
  from algoperf import registry
  from algoperf.data import catalog
  from algoperf.errors import UsageError

  names = registry.names(registry.DEFAULT_SUITE) if args.all else args.names
  if not names:
    raise UsageError('Name at least one workload, or pass --all. '
                     f'Known: {", ".join(registry.names())}.')
  if args.data_command == 'verify':
    catalog.verify_workloads(names, args.data_dir)
  else:
    catalog.prepare_workloads(names, args.data_dir, args.force,
                              source=args.source)
  return 0
