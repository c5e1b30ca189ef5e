"""Measuring each workload's standard error at its target, cached.

``measure`` trains the workload's protocol winner to its target
(``per_example``), scores every validation and test example, and
bootstraps the SE (``resolution``). Per-example scores are cached under
the cache directory (``<workload>.npz``, not committed), so re-bootstrapping
costs no training; the outcome, with how it was obtained, is committed as
``docs/targets/resolution/<workload>.json``, and ``apply`` writes the SE
into the suite's facts (``target_standard_error``). A record is reused
unless the target, the split sizes or the trained point changed
(``--force`` retrains).
"""

import json
import os
import pathlib
import time

import numpy as np

from algoperf import records
from algoperf import registry
from algoperf.target_setting import protocol
from algoperf.target_setting import resolution
from algoperf.target_setting import runs
from algoperf.target_setting import table
from algoperf.target_setting.runs import TargetSettingError

RECORDS = pathlib.PurePath('docs', 'targets', 'resolution')
SEED = 2  # Neither the tuning runs' seed (0) nor the reruns' (1).


def winner_point(repo: pathlib.Path, workload) -> tuple:
  """(algorithm, point or None, where it came from) to train.

  The protocol's tuning winner of this workload; a workload the protocol
  has not tuned (provisional: espeak_conformer) trains the self-tuning
  NAdamW baseline, as its provisional targets were chosen with it.
  """
  summary = table.read_summary(repo / table.summaries_dir(), 'tune',
                               workload.name)
  if summary is None:
    return (protocol.SELF_TUNING_BASELINE, None,
            'self-tuning nadamw (no protocol tuning runs)')
  best = table.winning_run(summary)
  horizon = workload.facts.target_setting_horizon_steps
  point = runs._over_horizon(best.hyperparameters, horizon,
                             workload.step_hint)
  return (best.algorithm, point,
          f'protocol winner: {best.algorithm} tuning trial {best.trial}')


def _inputs(workload, algorithm: str, point) -> dict:
  """What a record depends on: a change to any of these invalidates it."""
  return {
    'validation_target_value': workload.validation_target_value,
    'validation_examples': workload.num_validation_examples,
    'test_examples': workload.num_test_examples,
    'algorithm': algorithm, 'hyperparameters': point, 'seed': SEED,
  }


def record_path(repo: pathlib.Path, name: str) -> pathlib.Path:
  return repo / RECORDS / f'{name}.json'


def read_record(repo: pathlib.Path, name: str) -> dict | None:
  path = record_path(repo, name)
  return json.loads(path.read_text()) if path.exists() else None


def measure(repo: pathlib.Path, name: str, cache_dir, data_dir=None,
            force: bool = False, log=print) -> dict:
  """The record of ``name``: reused when still valid, else measured."""
  from algoperf.target_setting import per_example

  workload = registry.make_workload(name)
  algorithm, point, source = winner_point(repo, workload)
  inputs = _inputs(workload, algorithm, point)
  old = read_record(repo, name)
  if old is not None and old['inputs'] == inputs and not force:
    log(f'{name}: up to date ({record_path(repo, name).relative_to(repo)})')
    return old
  cache = pathlib.Path(cache_dir) / f'{name}.npz'
  metric = workload.target_metric_name
  started, load_before = time.monotonic(), os.getloadavg()
  trained = per_example.train_to_target(
    workload, runs.ALGORITHM_DIRS[algorithm], point, SEED, data_dir,
    workload.facts.target_setting_horizon_steps, log)
  sums = {split: per_example.per_example_sums(
    workload, trained.params, trained.model_state, split, data_dir)
    for split in ('validation', 'test')}
  cache.parent.mkdir(parents=True, exist_ok=True)
  np.savez(cache, **{f'{split}/{k}': v for split, d in sums.items()
                     for k, v in d.items()})
  record = {
    'workload': name, 'metric': metric,
    'relative': resolution.is_relative(metric), 'inputs': inputs,
    'trained': {'source': source, 'step': trained.step,
                'reached_target': trained.reached,
                'validation_metric': round(trained.validation, 6),
                'train_seconds': round(trained.train_seconds, 1),
                'wall_seconds': round(time.monotonic() - started, 1),
                'load_average': [round(x, 2) for x in load_before]},
    'resamples': resolution.RESAMPLES,
  }
  averages = workload.eval_averages
  for split, d in sums.items():
    value, se = resolution.standard_error(d, averages, metric)
    record[split] = {'examples': len(next(iter(d.values()))),
                     'metric': round(value, 6), 'se': round(se, 6),
                     'required_examples': resolution.required_examples(
                       len(next(iter(d.values()))), se, metric)}
  _check_sums(workload, trained, record, data_dir)
  path = record_path(repo, name)
  records.write_atomic(path, json.dumps(record, indent=1, sort_keys=True)
                       + '\n')
  log(f'{name}: validation {metric} {record["validation"]["metric"]:.4f} '
      f'SE {resolution.format_se(record["validation"]["se"], metric)}; '
      f'test SE {resolution.format_se(record["test"]["se"], metric)} '
      f'-> {path.relative_to(repo)}')
  return record


def _check_sums(workload, trained, record, data_dir) -> None:
  """The per-example sums must give the metric the workload's eval gives."""
  value = workload._eval_model_on_split(
    'validation', workload.num_validation_examples, workload.eval_batch_size,
    trained.params, trained.model_state, None,
    data_dir)[workload.target_metric_name]
  if abs(value - record['validation']['metric']) > 1e-4 * max(1, abs(value)):
    raise TargetSettingError(
      f'{workload.name}: per-example sums give {record["validation"]["metric"]}'
      f' but the workload evaluates {value}: its eval_metrics is not a sum '
      'over rows, so the bootstrap would not measure its metric.')


def fact(record: dict) -> dict:
  """The ``target_standard_error`` fact of a record."""
  return {'validation': record['validation']['se'],
          'test': record['test']['se'],
          'validation_examples': record['validation']['examples'],
          'test_examples': record['test']['examples'],
          'relative': record['relative'],
          'metric': record['validation']['metric']}


def apply(repo: pathlib.Path, suite_name: str = registry.DEFAULT_SUITE) -> list:
  """Writes every committed record's SE into the suite's facts."""
  suite = registry.suite(suite_name)
  changes = {}
  for name in suite.workloads:
    record = read_record(repo, name)
    if record is not None:
      changes[name] = {'target_standard_error': fact(record)}
  if changes:
    registry.update_facts(suite.name, changes)
  return sorted(changes)


def plan_table(repo: pathlib.Path,
               suite_name: str = registry.DEFAULT_SUITE) -> str:
  """Markdown: per workload, the measured SE and the split sizes it needs."""
  lines = ['| workload | metric at SE | validation n | SE | needs n | '
           'test n | SE | needs n | trained |',
           '|---|---:|---:|---:|---:|---:|---:|---:|---|']
  missing = []
  for name in registry.suite(suite_name).workloads:
    record = read_record(repo, name)
    if record is None:
      missing.append(name)
      continue
    metric = record['metric']
    v, t, trained = record['validation'], record['test'], record['trained']
    lines.append(
      f'| {name} | {metric} {v["metric"]:.4g} | {v["examples"]} | '
      f'{resolution.format_se(v["se"], metric)} | {v["required_examples"]} | '
      f'{t["examples"]} | {resolution.format_se(t["se"], metric)} | '
      f'{t["required_examples"]} | step {trained["step"]}'
      f'{"" if trained["reached_target"] else " (target not reached)"} |')
  if missing:
    lines.append(f'\nNot measured: {", ".join(missing)}.')
  return '\n'.join(lines)
