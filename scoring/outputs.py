"""Writes scoring results: CSVs in AlgoPerf's shapes, atomically.

Files (in ``output_dir``):
  scores.csv                 submission,score (best first)
  time_to_targets.csv        median time per workload (base + held-out),
                             before the held-out rule and the 4x cut; misses
                             are ``inf``, workloads without logs empty
  performance_profile.csv    rho(tau) per submission; header = tau values
  speedups.csv               runtime ratios vs the reference submission,
                             over the base workloads both reached (and
                             AlgoPerf's, misses as the budget + 1)
  <submission>_summary.csv   one row per trial (AlgoPerf's summary columns)
  scoring_info.json          version, rules, ruleset, options, warnings
"""

import csv
import dataclasses
import io
import json
import math
import os
import tempfile

from scoring.errors import ScoringError


def _file_mode() -> int:
  umask = os.umask(0)
  os.umask(umask)
  return 0o666 & ~umask


def write_atomic(path: str, text: str) -> None:
  """Temp file in the same directory + rename: a reader never sees half."""
  write_bytes_atomic(path, text.encode('utf-8'))


def write_bytes_atomic(path: str, data: bytes) -> None:
  directory = os.path.dirname(os.path.abspath(path))
  fd, tmp = tempfile.mkstemp(dir=directory,
                             prefix=f'.{os.path.basename(path)}.')
  try:
    with os.fdopen(fd, 'wb') as f:
      f.write(data)
    os.chmod(tmp, _file_mode())  # mkstemp makes 0600; use the umask's.
    os.replace(tmp, path)
  except BaseException:
    if os.path.exists(tmp):
      os.unlink(tmp)
    raise


def make_output_dir(path: str) -> str:
  try:
    os.makedirs(path, exist_ok=True)
  except OSError as e:
    raise ScoringError(f'Cannot create output directory {path}: {e}.') from e
  return path


def fmt(value) -> str:
  """Floats as Python's repr (what pandas writes); NaN empty, inf 'inf'."""
  if isinstance(value, float):
    if math.isnan(value):
      return ''
    return repr(value)
  return str(value)


def csv_text(header: list[str], rows: list[list]) -> str:
  buffer = io.StringIO()
  writer = csv.writer(buffer, lineterminator='\n')
  writer.writerow(header)
  writer.writerows([fmt(v) for v in row] for row in rows)
  return buffer.getvalue()


def ranked(result) -> list[str]:
  scores = result.profile.scores
  return sorted(scores, key=lambda s: (-scores[s], s))


def write_scores(result, output_dir: str) -> str:
  path = os.path.join(output_dir, 'scores.csv')
  rows = [[s, result.profile.scores[s]] for s in ranked(result)]
  write_atomic(path, csv_text(['submission', 'score'], rows))
  return path


def write_tables(result, output_dir: str) -> list[str]:
  """time_to_targets, performance profile, speedups, info (not scores)."""
  paths = []
  workloads = sorted(result.targets.scored_workloads(result.rules == 'v0.5'))
  times = result.times
  rows = [[s] + [times[s].get(w, math.nan) for w in workloads]
          for s in ranked(result)]
  paths.append(os.path.join(output_dir, 'time_to_targets.csv'))
  write_atomic(paths[-1], csv_text(['submission'] + workloads, rows))
  profile = result.profile
  rows = [[s] + profile.rho[s] for s in ranked(result)]
  paths.append(os.path.join(output_dir, 'performance_profile.csv'))
  write_atomic(paths[-1], csv_text(['submission'] + profile.taus, rows))
  if result.speedups:
    paths.append(os.path.join(output_dir, 'speedups.csv'))
    write_atomic(paths[-1], speedups_csv(result))
  if result.uncertainty is not None:
    paths.append(os.path.join(output_dir, 'score_uncertainty.csv'))
    write_atomic(paths[-1], uncertainty_csv(result))
  paths.append(os.path.join(output_dir, 'scoring_info.json'))
  write_atomic(paths[-1], json.dumps(info(result), indent=2) + '\n')
  return paths


def speedups_csv(result) -> str:
  """One row per submission: ratios over the workloads both reached
  (empty, with the reason in ``note``, where there are none), the ratio
  per workload (empty where one side missed), AlgoPerf's ratio last."""
  bases = list(result.targets.base_workloads)
  rows = [[r.submission, r.reference, r.runtime_ratio, r.speedup,
           len(r.per_workload), r.why_not]
          + [r.per_workload.get(w, math.nan) for w in bases]
          + [r.algoperf_runtime_ratio] for r in result.speedups]
  return csv_text(
    ['submission', 'reference', 'geomean_runtime_ratio', 'speedup',
     'workloads_both_reached', 'note'] + bases
    + ['algoperf_geomean_runtime_ratio_misses_as_budget'], rows)


def uncertainty_csv(result) -> str:
  """One row per submission: its score, the bootstrap interval over
  studies and the score of each study alone (scoring/uncertainty.py)."""
  spread = result.uncertainty
  percent = round(100 * spread.level)
  rows = [[s, result.profile.scores[s], *spread.interval[s],
           *(spread.per_study[s].get(k, math.nan) for k in spread.studies)]
          for s in ranked(result)]
  return csv_text(['submission', 'score', f'bootstrap_{percent}_low',
                   f'bootstrap_{percent}_high']
                  + [f'score_{k}' for k in spread.studies], rows)


def interval_text(result, submission: str) -> str:
  """'0.43-0.86': the score's bootstrap interval over studies."""
  low, high = result.uncertainty.interval[submission]
  return f'{low:.2f}-{high:.2f}'


def per_study_text(result, submission: str) -> str:
  """'0.57 / 0.71 / 0.57': the score of each study alone, in order."""
  spread = result.uncertainty
  return ' / '.join(f'{spread.per_study[submission][k]:.2f}'
                    for k in spread.studies)


def uncertainty_note(result) -> str:
  spread = result.uncertainty
  return (f'Interval: the central {round(100 * spread.level)}% of the '
          f'score over {spread.resamples:,} bootstrap resamples of the '
          'studies (each workload\'s studies drawn again with replacement; '
          'coarse with few studies). Per study: the score of study '
          f'{", ".join(k.removeprefix("study_") for k in spread.studies)} '
          'alone, against the other submissions\' same study.')


def reference_phrase(result) -> str:
  """'nadamw, the best-scoring submission': how the speedups' reference
  was chosen, for every place that shows speedups."""
  from scoring import pipeline

  how = {pipeline.NAMED: 'named as the reference',
         pipeline.BEST_SCORING: 'the best-scoring submission',
         pipeline.TIED_BEST: 'the best-scoring submission (tied; first by '
         'name)'}.get(result.reference_how, '')
  return f'{result.reference}, {how}' if how else str(result.reference)


def speedup_text(row) -> str:
  """'1.23x' or 'n/a'."""
  return 'n/a' if math.isnan(row.speedup) else f'{row.speedup:.2f}x'


def info(result) -> dict:
  return {
    'benchmark_version': result.targets.benchmark_version,
    'targets_file': result.targets.source,
    'targets_choice': result.targets_how,
    'rules': result.rules,
    'ruleset': result.ruleset,
    'ruleset_from': result.ruleset_how,
    'time_column': result.options.time_col,
    'experiment_dir': result.root,
    'created': result.created,
    'options': dataclasses.asdict(result.options),
    'reference_submission': result.reference,
    'reference_submission_chosen': result.reference_how,
    'scores': {s: result.profile.scores[s] for s in ranked(result)},
    'score_uncertainty': (None if result.uncertainty is None else {
      'resamples': result.uncertainty.resamples,
      'level': result.uncertainty.level,
      'seed': result.uncertainty.seed,
      'interval': {s: list(result.uncertainty.interval[s])
                   for s in ranked(result)},
      'per_study': {s: result.uncertainty.per_study[s]
                    for s in ranked(result)}}),
    'warnings': [dataclasses.asdict(p) for p in result.problems.items],
  }


SUMMARY_HEADER = [
  'workload', 'study', 'trial', 'val target metric name',
  'val target metric value', 'val target reached',
  'best metric value on val', 'time to best eval on val (s)',
  'time to target on val (s)', 'step_time (s)', 'step_hint', 'path',
]


def write_summaries(result, output_dir: str) -> list[str]:
  """Per submission, one row per trial, as AlgoPerf's summary files."""
  paths = []
  for submission, trials in sorted(result.pool.trials.items()):
    step_times = _median_step_times(trials)
    rows = [_summary_row(t, result.targets.workloads[t.workload],
                         step_times[t.workload]) for t in trials]
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    path = os.path.join(output_dir, f'{submission}_summary.csv')
    write_atomic(path, csv_text(SUMMARY_HEADER, rows))
    paths.append(path)
  return paths


def _summary_row(trial, target, step_time) -> list:
  metric = trial.metric
  seconds = trial.columns['accumulated_submission_time']
  finite = [(v, i) for i, v in enumerate(metric) if not math.isnan(v)]
  if finite:
    pick = min if target.direction == 'min' else max
    best_value, best_index = pick(finite, key=lambda vi: vi[0])
    best_time = seconds[best_index]
  else:
    best_value = best_time = math.nan
  reached = next((i for i, v in enumerate(metric) if target.reached(v)),
                 None)
  return [trial.workload, trial.study, trial.trial, target.column,
          target.validation_target, reached is not None, best_value,
          best_time, seconds[reached] if reached is not None else math.inf,
          step_time, target.step_hint or '', trial.path]


def _median_step_times(trials) -> dict[str, float]:
  """Per workload, the median over all trials of d(seconds) / d(steps)."""
  ratios = {}
  for trial in trials:
    seconds = trial.columns['accumulated_submission_time']
    steps = trial.columns['global_step']
    out = ratios.setdefault(trial.workload, [])
    prev_s = prev_t = 0.0
    for t, s in zip(seconds, steps):
      if s != prev_s and not (math.isnan(s) or math.isnan(t)):
        out.append((t - prev_t) / (s - prev_s))
      prev_s, prev_t = s, t
  medians = {}
  for workload, values in ratios.items():
    values.sort()
    n = len(values)
    medians[workload] = (math.nan if not n else values[n // 2] if n % 2
                         else (values[n // 2 - 1] + values[n // 2]) / 2)
  return medians
