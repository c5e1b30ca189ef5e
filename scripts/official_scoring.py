r"""Score a logs directory with AlgoPerf's official scoring code and ours.

  .venv/bin/algoperf targets export --logs docs/leaderboard/logs \
      --from docs/leaderboard/workload_targets.json -o /tmp/targets.json
  .venv/bin/python scripts/official_scoring.py docs/leaderboard/logs \
      --workload-targets /tmp/targets.json \
      --official ~/src/submissions_algorithms --python ~/venv/bin/python

--official: a checkout (or git directory) of mlcommons/submissions_algorithms
holding the pinned commit (scoring.official_layout.OFFICIAL_COMMIT; its
scoring files are checked byte for byte). --python: an interpreter with its
dependencies (its pyproject pins pandas, numpy, absl-py, tabulate,
matplotlib, scipy). Prints both scores and every time-to-target cell that
differs; exits 0 when all agree (to 1e-9), 1 otherwise.
"""

import argparse
import sys
import tempfile


def _parser() -> argparse.ArgumentParser:
  parser = argparse.ArgumentParser(
    prog='official_scoring.py', description=__doc__.splitlines()[0],
    epilog=__doc__.split('\n', 2)[2],
    formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument('logs', metavar='LOGS', help='the logs directory')
  parser.add_argument('--workload-targets', required=True, metavar='JSON',
                      help='targets in AlgoPerf\'s format (algoperf targets '
                      'export); both scorers read it')
  parser.add_argument('--official', required=True, metavar='PATH',
                      help='checkout or git directory of '
                      'mlcommons/submissions_algorithms')
  parser.add_argument('--python', default=sys.executable,
                      help='interpreter with the official dependencies '
                      '(default: this one)')
  parser.add_argument('--output-dir', default=None, metavar='D',
                      help='keep the official outputs here (default: a '
                      'temporary directory)')
  return parser


def _print(scores, cells) -> None:
  print(f'{"submission":<24} {"official":>20} {"ours":>20}')
  for cell in scores:
    print(f'{cell.submission:<24} {cell.official:>20.15f} '
          f'{cell.ours:>20.15f}{"" if cell.same else "  DIFFERS"}')
  differ = [c for c in cells if not c.same]
  for cell in differ:
    print(f'time to target differs: {cell.submission} {cell.column}: '
          f'official {cell.official!r}, ours {cell.ours!r}')
  print(f'{len(differ)} of {len(cells)} time-to-target cells differ; '
        f'{sum(not c.same for c in scores)} of {len(scores)} scores differ.')


def main(argv=None) -> int:
  from scoring import official
  from scoring import pipeline
  from scoring.errors import ScoringError

  args = _parser().parse_args(argv)
  try:
    ours = pipeline.score_experiments(args.logs, pipeline.ScoreOptions(
      targets=args.workload_targets))
    with official.locate(args.official) as tree, \
        tempfile.TemporaryDirectory(prefix='official-scores-') as tmp:
      run = official.OfficialRun(
        logs=args.logs, targets=args.workload_targets,
        output_dir=args.output_dir or tmp, self_tuning=ours.ruleset == 'self',
        python=args.python)
      print(f'Official scoring at {official.OFFICIAL_COMMIT} ({tree}): '
            f'{" ".join(official.command(run)[1:])}')
      official.run(tree, run)
      scores, cells = official.compare(ours, run.output_dir)
  except ScoringError as e:
    print(f'official_scoring.py: error: {e}', file=sys.stderr)
    return 1
  _print(scores, cells)
  return 0 if all(c.same for c in scores + cells) else 1


if __name__ == '__main__':
  sys.exit(main())
