"""Prepare datasets (download pinned packages or generate) into the data dir."""


def add_arguments(parser):
  sub = parser.add_subparsers(dest='data_command', metavar='ACTION',
                              required=True)
  prep = sub.add_parser('prepare', help='prepare datasets for workloads')
  prep.add_argument('names', nargs='*', metavar='NAME',
                    help='workload names (their datasets are prepared)')
  prep.add_argument('--all', action='store_true',
                    help='prepare the datasets of every registered workload')
  prep.add_argument('--data-dir', default=None,
                    help='where prepared data lives (default: '
                    '$ALGOPERF_DATA_DIR or ~/.cache/algoperf/data)')


def run(args) -> int:
  from algoperf import registry
  from algoperf.data import catalog
  from algoperf.errors import DataError

  names = registry.names() if args.all else args.names
  if not names:
    raise DataError('Name at least one workload, or pass --all. '
                    f'Known: {", ".join(registry.names())}.')
  catalog.prepare_workloads(names, args.data_dir)
  return 0
