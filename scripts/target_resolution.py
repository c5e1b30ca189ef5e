"""Standard error at each target, by bootstrap over examples (issue 18).

  # Train each workload's protocol winner to its target, score every
  # validation and test example, bootstrap the SE (cached: a rerun
  # retrains only workloads whose target, splits or winner changed).
  nice -n 19 .venv/bin/python scripts/target_resolution.py measure \
    --workloads mnist,census_dlrm
  # Write the committed records' SE into algoperf/suites/cpu.json.
  .venv/bin/python scripts/target_resolution.py apply
  # The split sizes that would meet the goal (0.25% abs / 0.5% rel).
  .venv/bin/python scripts/target_resolution.py plan

Records: docs/targets/resolution/<workload>.json (committed); per-example
scores: --cache-dir (default experiments/target_resolution, not committed).
"""

import argparse
import os
import pathlib
import sys

from algoperf.errors import AlgoperfError

REPO = pathlib.Path(__file__).resolve().parents[1]
DEFAULT_CACHE = REPO / 'experiments' / 'target_resolution'


def _parser() -> argparse.ArgumentParser:
  parser = argparse.ArgumentParser(
    description=__doc__.splitlines()[0],
    formatter_class=argparse.RawTextHelpFormatter,
    epilog='\n'.join(__doc__.splitlines()[1:]))
  sub = parser.add_subparsers(dest='command', required=True)
  p = sub.add_parser('measure')
  p.add_argument('--workloads', default='',
                 help='comma-separated (default: every cpu-suite workload)')
  p.add_argument('--cache-dir', default=str(DEFAULT_CACHE))
  p.add_argument('--data-dir', default=None)
  p.add_argument('--force', action='store_true',
                 help='retrain even where the record is up to date')
  sub.add_parser('apply')
  sub.add_parser('plan')
  return parser


def main(argv=None) -> int:
  args = _parser().parse_args(argv)
  from algoperf import registry
  from algoperf.target_setting import resolution_runs

  try:
    if args.command == 'measure':
      names = [w for w in args.workloads.split(',') if w] or registry.names(
        registry.DEFAULT_SUITE)
      for name in names:
        registry.facts(name)  # Unknown names fail before any training.
      for name in names:
        resolution_runs.measure(REPO, name, args.cache_dir, args.data_dir,
                                args.force)
    elif args.command == 'apply':
      written = resolution_runs.apply(REPO)
      print(f'wrote target_standard_error of {len(written)} workloads into '
            f'{registry.suite().path.name}')
    else:
      print(resolution_runs.plan_table(REPO))
    return 0
  except AlgoperfError as e:
    print(f'target_resolution.py {args.command}: error: {e}', file=sys.stderr)
    return 1


if __name__ == '__main__':
  os.environ.setdefault('PYTHONUNBUFFERED', '1')
  sys.exit(main())
