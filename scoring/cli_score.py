"""Score experiment directories by AlgoPerf's rules.

Reads DIR/<submission>/study_<k>/<workload>_<framework>/trial_<i>/
eval_measurements.csv (ours or AlgoPerf's published logs), prints the
targets it scores against (first line: --workload-targets, else a
workload_targets.json beside DIR, else the targets recorded with the
trials, else the builtin the logs cover) and each submission's benchmark
score, and writes scores.csv, time_to_targets.csv,
performance_profile.csv (+ PNG/PDF plot), speedups.csv, per-submission
summaries and scoring_info.json to --output-dir.
"""

import os
import sys
import time

from scoring.time_to_target import DEFAULT_TIE_BREAK
from scoring.time_to_target import TIE_BREAKS


def add_common_arguments(parser) -> None:
  """Options shared by `algoperf score` and `algoperf leaderboard`."""
  parser.add_argument('dir', metavar='DIR',
                      help='experiment directory: <submission>/study_<k>/...'
                      ' (or one submission directory)')
  parser.add_argument('--workload-targets', metavar='JSON', default=None,
                      help='targets file in AlgoPerf workload_targets format,'
                      ' or a builtin: algoperf_v05, cpu_suite (default: '
                      'workload_targets.json beside DIR, else the targets '
                      'recorded with the trials, else the builtin whose '
                      'workloads the logs cover; the first line printed '
                      'says which)')
  parser.add_argument('--ruleset', choices=('external', 'self', 'pbt'),
                      default=None,
                      help='tuning ruleset (self: one trial per study; '
                      'pbt: population-based training, scored only on its '
                      'own; '
                      'default: what the logs\' flags_*.json say, else a '
                      'self_tuning/external_tuning folder name, else '
                      'external)')
  parser.add_argument('--rules', choices=('v0.5', 'v0.6'), default=None,
                      help='v0.5: held-out variants can disqualify a base '
                      'workload; v0.6: no held-out rule (default: v0.5 when '
                      'the targets file lists held-out workloads)')
  parser.add_argument('--time-col', choices=('score', 'global_step'),
                      default='score',
                      help='score by time (score column) or by steps')
  parser.add_argument('--strict', action='store_true',
                      help='count mismatches (workloads, studies, trials) '
                      'are errors, not warnings')
  parser.add_argument('--studies', type=int, default=None, metavar='N',
                      help='expected studies per workload (default: the '
                      'most common count in the logs)')
  parser.add_argument('--trials', type=int, default=None, metavar='M',
                      help='expected trials per study (default: the most '
                      'common count)')
  parser.add_argument('--tie-break', choices=TIE_BREAKS,
                      default=DEFAULT_TIE_BREAK,
                      help='trial kept when several reach the target at the '
                      'same eval index: listing (AlgoPerf\'s: the first in '
                      'directory listing order, which depends on the '
                      'filesystem), last-trial (the highest trial number) '
                      'or fastest')
  parser.add_argument('--reference-submission', metavar='NAME', default=None,
                      help='submission the speedups are relative to '
                      '(default: the best-scoring submission)')
  parser.add_argument('--output-dir', required=True, metavar='D',
                      help='where the result files go')


def add_arguments(parser) -> None:
  add_common_arguments(parser)
  parser.add_argument('--no-plots', action='store_true',
                      help='skip the performance-profile PNG/PDF')


def options_from_args(args):
  from scoring import pipeline

  return pipeline.ScoreOptions(
    targets=args.workload_targets, ruleset=args.ruleset, rules=args.rules,
    time_col=args.time_col, strict=args.strict, tie_break=args.tie_break,
    reference_submission=args.reference_submission,
    expected_studies=args.studies, expected_trials=args.trials)


_TIE_WORDS = {'listing': 'first trial listed', 'last-trial': 'last trial',
              'fastest': 'fastest trial'}


def print_scores(result, out=None) -> None:
  """The targets used (first line), the scores, the speedups."""
  from scoring import outputs

  out = out or sys.stdout

  print(f'Targets: {result.targets_how}', file=out)
  print(f'Scores: benchmark {result.targets.version_label} targets, '
        f'rules {result.rules}, {result.ruleset} tuning (from '
        f'{result.ruleset_how}), by {result.options.time_col}, ties to the '
        f'{_TIE_WORDS[result.options.tie_break]} '
        f'({len(result.profile.submissions)} submissions, '
        f'{sum(map(len, result.pool.trials.values()))} trials)', file=out)
  names = outputs.ranked(result)
  width = max(map(len, names))
  for name in names:
    print(f'  {name:<{width}}  {result.profile.scores[name]:.12f}', file=out)
  if result.speedups:
    print(f'Speedups over {outputs.reference_phrase(result)}, on the base '
          'workloads both reached:', file=out)
  for row in result.speedups:
    print(f'  {row.submission}: {_speedup_line(row, result)}', file=out)


def _speedup_line(row, result) -> str:
  if row.why_not:
    return f'n/a: {row.why_not}'
  bases = len(result.targets.base_workloads)
  return (f'{row.speedup:.3f}x on {len(row.per_workload)} of {bases} '
          f'(geometric-mean time ratio {row.runtime_ratio:.3f})')


def print_problems(result, output_dir: str) -> None:
  if not result.problems:
    return
  for line in result.problems.summary_lines():
    print(line, file=sys.stderr)
  print(f'(all {len(result.problems)} warnings: {output_dir}/'
        'scoring_info.json)', file=sys.stderr)


def write_plots(result, output_dir: str) -> list[str]:
  from scoring import outputs
  from scoring import plots

  figures = plots.profile_figure(result, outputs.ranked(result))
  paths = []
  for fmt, data in figures.items():
    paths.append(os.path.join(output_dir, f'performance_profile.{fmt}'))
    outputs.write_bytes_atomic(paths[-1], data)
  return paths


def run(args) -> int:
  from algoperf import packaging  # Standard library only: no JAX.
  from scoring import outputs
  from scoring import pipeline

  start = time.perf_counter()
  # DIR may be a package from `algoperf package`: checksums verified first.
  with packaging.scoring_root(args.dir) as root:
    result = pipeline.score_experiments(root, options_from_args(args))
  output_dir = outputs.make_output_dir(args.output_dir)
  outputs.write_scores(result, output_dir)
  if os.environ.get('ALGOPERF_SCORING_TIMING'):  # benchmarks/scoring_speed.py
    print(f'timing: scores.csv written at {time.process_time():.3f} s of '
          'process CPU time', file=sys.stderr)
  print_scores(result)
  outputs.write_tables(result, output_dir)
  outputs.write_summaries(result, output_dir)
  if not args.no_plots:
    write_plots(result, output_dir)
  print_problems(result, output_dir)
  print(f'Wrote results to {output_dir}/ in '
        f'{time.perf_counter() - start:.2f} s.')
  return 0
