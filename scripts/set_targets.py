"""The CPU suite's target-setting protocol (algoperf/target_setting/).

Stages (each resumable: a rerun skips finished runs and re-summarises),
for the suite file's version (cpu-1.0; --protocol names another):

  # 1. Tune NAdamW and Nesterov on the base workloads (8 Halton points each).
  .venv/bin/python scripts/set_targets.py tune --stage base --workers 2
  # 2. Rerun each base winner with 5 seeds, one run at a time: these runs'
  #    times set the budgets, so nothing else may compete for the cores.
  .venv/bin/python scripts/set_targets.py seeds --stage base --workers 1
  # 3. Variants: the base's winning algorithm, 4 points, then 5 seeds.
  .venv/bin/python scripts/set_targets.py tune --stage variants --workers 2
  .venv/bin/python scripts/set_targets.py seeds --stage variants --workers 2
  # 4. The table, from the committed summaries alone.
  .venv/bin/python scripts/set_targets.py table   # docs/targets/cpu-1.0.md
  .venv/bin/python scripts/set_targets.py table --apply   # + the suite facts
  .venv/bin/python scripts/set_targets.py table --check   # facts == table?

A version that is not the suite file's runs the same stages on a draft of
its suite (its families, held-out draw and splits:
--runs-dir/<version>/suites/); once it has set every workload within its
rules, `table --apply --protocol VERSION` moves the suite file to it.

Runs go to --runs-dir/<version> (default experiments/target_setting/,
not committed); their summaries to the version's folder (cpu-1.0:
docs/targets/cpu-1.0/runs/<tune|seeds>/<workload>.json, committed).
``pipeline`` chains stages under one deadline (for a lent many-core
machine: tuning runs' metrics depend on steps, not speed). Also runs as
``python -m scripts.set_targets``.
"""

import argparse
import os
import pathlib
import sys

from algoperf.errors import AlgoperfError
from algoperf.target_setting import draft
from algoperf.target_setting import protocol
from algoperf.target_setting import stages
from algoperf.target_setting import table

REPO = pathlib.Path(__file__).resolve().parents[1]
DEFAULT_RUNS = REPO / 'experiments' / 'target_setting'


def _stages(text: str) -> list:
  """'tune:base,seeds:variants' -> [('tune', 'base'), ('seeds', ...)]."""
  return [item.partition(':')[::2] for item in text.split(',') if item]


def _protocol_argument(parser) -> None:
  parser.add_argument(
    '--protocol', choices=list(protocol.VERSIONS), default=protocol.CURRENT,
    help='protocol version (default: %(default)s, the suite file\'s); '
    'each keeps its summaries in its own folder (cpu-1.0: '
    'docs/targets/cpu-1.0/) and its runs under --runs-dir/VERSION')


def _parser() -> argparse.ArgumentParser:
  parser = argparse.ArgumentParser(
    description=__doc__.splitlines()[0],
    formatter_class=argparse.RawTextHelpFormatter,
    epilog='\n'.join(__doc__.splitlines()[1:]))
  sub = parser.add_subparsers(dest='command', required=True)
  for name in ('tune', 'seeds', 'pipeline'):
    p = sub.add_parser(name)
    if name == 'pipeline':
      p.add_argument('--stages', required=True, type=_stages,
                     help='comma-separated KIND:STAGE, e.g. '
                     'tune:base,tune:variants,seeds:variants')
      p.add_argument('--deadline-s', type=float, default=None,
                     help='start no run after this many seconds')
    else:
      p.add_argument('--stage', choices=stages.GROUPS, required=True)
    p.add_argument('--workloads', default='',
                   help='comma-separated subset (default: all of the stage)')
    p.add_argument('--workers', type=int, default=1)
    p.add_argument('--runs-dir', default=str(DEFAULT_RUNS))
    p.add_argument('--data-dir', default=None)
    p.add_argument('--summarize-only', action='store_true',
                   help='run nothing; re-summarise the finished runs')
    _protocol_argument(p)
  p = sub.add_parser('table')
  _protocol_argument(p)
  p.add_argument('--apply', action='store_true',
                 help='also write the targets into algoperf/suites/cpu.json')
  p.add_argument('--check', action='store_true',
                 help='exit 1 if docs/targets.md or the suite facts differ')
  return parser


def main(argv=None) -> int:
  args = _parser().parse_args(argv)
  try:
    if protocol.superseded(args.protocol):
      raise AlgoperfError(
        f'protocol {args.protocol} came before the suite file\'s '
        f'({protocol.CURRENT}): its summaries, its page '
        f'({protocol.version(args.protocol).doc}) and its facts (under '
        '"earlier_versions" in algoperf/suites/cpu.json) are kept as they '
        'were, for scoring its logs; nothing runs or renders it again. '
        f'Fix: use --protocol {protocol.CURRENT} (the default) or a later '
        'version.')
    if args.command == 'table':
      return table.main(REPO, apply_to_code=args.apply, check=args.check,
                        version=args.protocol)
    # A version's runs never share study plans with another's, current or
    # not (the folder does not move when a version becomes current); a
    # version that is not current runs the workloads as it has them (its
    # draft of the suite).
    runs_dir = str(pathlib.Path(args.runs_dir) / args.protocol)
    if args.protocol != protocol.CURRENT:
      draft.enter(protocol.version(args.protocol), runs_dir)
    options = stages.StageOptions(
      REPO, runs_dir, args.data_dir,
      tuple(w for w in args.workloads.split(',') if w), args.workers,
      args.summarize_only, args.protocol)
    if args.command == 'pipeline':
      stages.run_stages(args.stages, options, args.deadline_s)
    else:
      stages.run_stages([(args.command, args.stage)], options)
    return 0
  except AlgoperfError as e:
    print(f'set_targets.py {args.command}: error: {e}', file=sys.stderr)
    return 1


if __name__ == '__main__':
  os.environ.setdefault('PYTHONUNBUFFERED', '1')
  sys.exit(main())
