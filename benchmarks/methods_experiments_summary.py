"""Issue 22's summaries: the small JSON each table is made from.

Reads the trial directories of ``methods_experiments.py`` (JAX-free) and
writes one JSON per section: a row per trial (or PBT population), with
what the tables and the checks need (statuses, steps, submission time,
best and target values, contention, compilation in the timed process; for
the adaptive batch, the effective batch over the run).
"""

import csv
import math
import pathlib

from algoperf import records

PREFIX = {'adaptive_batch': 'adaptive_batch_', 'ghost_bn': 'ghost_bn_',
          'pbt': 'pbt_'}


def _rows(path):
  with open(path, newline='') as f:
    return list(csv.DictReader(f))


def _float(value):
  try:
    return float(value)
  except (TypeError, ValueError):
    return math.nan


def trial_row(trial: pathlib.Path) -> dict:
  status = records.read_json(trial / records.STATUS)
  flags = records.read_json(trial / 'flags_0.json')
  metric, target = status['target_metric'], status['target_value']
  evals = (_rows(trial / records.EVAL_MEASUREMENTS)
           if (trial / records.EVAL_MEASUREMENTS).exists() else [])
  values = [(_float(r[metric]), int(r['global_step']),
             _float(r['accumulated_submission_time'])) for r in evals]
  reached = next(((step, t) for v, step, t in values if v >= target), None)
  best = max((v for v, _, _ in values if not math.isnan(v)), default=None)
  machine = [m['machine'] for m in status.get('measurements', [])]
  compiled = [m.get('compilation', {}).get(
    'accumulated_submission_time', {}) for m in status.get(
      'measurements', [])]
  return {
    'trial_dir': str(trial), 'study': status['study'],
    'trial': status['trial'], 'rng_seed': flags.get('rng_seed'),
    'hyperparameters': flags.get('hyperparameters'),
    'status': status['status'], 'global_step': status['global_step'],
    'submission_s': status.get('accumulators', {}).get(
      'accumulated_submission_time'),
    'best_val': best, 'target': target,
    'steps_to_target': reached[0] if reached else None,
    'time_to_target_s': reached[1] if reached else None,
    'curve': [[step, v] for v, step, _ in values],
    'contended': status.get('contended'),
    'load_average': [round(m['load_average_start'], 2) for m in machine]
    + [round(m['load_average_end'], 2) for m in machine[-1:]],
    'compiled_on_clock': sum(c.get('compiled', 0) for c in compiled),
    'loaded_on_clock': sum(c.get('loaded', 0) for c in compiled),
  }


def batch_growth(trial: pathlib.Path) -> dict:
  """The effective batch over the run, from grad_norms.csv: the steps
  where it changed, and the norm test statistic's median per K."""
  path = trial / records.GRAD_NORMS
  if not path.exists():
    return {}
  rows = _rows(path)
  changes, last = [], None
  by_size = {}
  for r in rows:
    size = int(float(r['effective_batch_size']))
    if size != last:
      changes.append([int(r['global_step']), size])
      last = size
    by_size.setdefault(size, []).append(_float(r['norm_test_statistic']))
  medians = {str(k): sorted(v)[len(v) // 2] for k, v in by_size.items()}
  return {'batch_changes': changes, 'statistic_median_by_batch': medians,
          'examples': sum(int(float(r['effective_batch_size']))
                          for r in rows)}


def _trials(experiment: pathlib.Path):
  return sorted(experiment.glob('study_*/*_jax/trial_*'))


def write(section: str, experiments: pathlib.Path, out: pathlib.Path):
  entries = []
  for experiment in sorted(experiments.glob(PREFIX[section] + '*')):
    for trial in _trials(experiment):
      status = trial / records.STATUS
      if not status.exists() or not records.is_final(
          records.read_json(status)):
        continue  # Still running (or paused): a rerun finishes it.
      row = {'arm': experiment.name, **trial_row(trial)}
      if section == 'adaptive_batch':
        row.update(batch_growth(trial))
      entries.append(row)
  summary = {'section': section, 'trials': entries}
  if section == 'pbt':
    summary['populations'] = [
      {'arm': p.parents[2].name, **records.read_json(p)}
      for p in sorted(experiments.glob(
        'pbt_population_*/.algoperf/pbt/*.json'))]
  for entry in entries:  # Paths on this machine say nothing elsewhere.
    entry['trial_dir'] = str(pathlib.Path(entry['trial_dir']).relative_to(
      experiments))
  out.parent.mkdir(parents=True, exist_ok=True)
  records.write_json(out, summary)
  print(f'wrote {out} ({len(entries)} trials)')
