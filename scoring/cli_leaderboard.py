"""Write a leaderboard: leaderboard.md and a self-contained leaderboard.html.

Scores DIR as `algoperf score` does, then writes a markdown table and one
HTML page (scores, per-workload times with misses marked, the performance
profile plot and the training curves of each submission's best trial per
workload, embedded), with benchmark version, ruleset and date.
"""

from scoring import cli_score


def add_arguments(parser) -> None:
  cli_score.add_common_arguments(parser)
  parser.add_argument('--no-curves', action='store_true',
                      help='leave the training curves out of the page')
  parser.add_argument('--screenshot', metavar='PNG', default=None,
                      help='also render the page to this PNG with headless '
                      'Chromium')
  parser.add_argument('--screenshot-size', metavar='WxH', default='1280x2440',
                      help='browser window size of the screenshot')


def run(args) -> int:
  from scoring import leaderboard
  from scoring import outputs
  from scoring import pipeline

  result = pipeline.score_experiments(args.dir,
                                      cli_score.options_from_args(args))
  output_dir = outputs.make_output_dir(args.output_dir)
  outputs.write_scores(result, output_dir)
  outputs.write_tables(result, output_dir)
  cli_score.print_scores(result)
  paths = leaderboard.write(result, output_dir,
                            with_curves=not args.no_curves)
  if args.screenshot:
    from scoring import screenshot

    width, height = _size(args.screenshot_size)
    paths.append(screenshot.screenshot(paths[1], args.screenshot, width,
                                       height))
  cli_score.print_problems(result, output_dir)
  for path in paths:
    print(f'Wrote {path}')
  return 0


def _size(text: str) -> tuple[int, int]:
  from scoring.errors import ScoringError

  try:
    width, height = (int(v) for v in text.lower().split('x'))
  except ValueError:
    raise ScoringError(f'--screenshot-size {text!r}: use WIDTHxHEIGHT, e.g. '
                       '1280x2440.') from None
  return width, height
