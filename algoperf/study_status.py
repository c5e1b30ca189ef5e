"""The table of a study's trials, read from disk (live, or `algoperf status`).

Trials report through their files only (status.json is rewritten at every
eval), so the same table serves the live display of a running study -- on
any backend, Ray included -- and `algoperf status` run from another shell,
even on another machine that sees the experiment directory.
"""

import contextlib
import json
import math
import pathlib
import platform

from algoperf import console
from algoperf import host_paths
from algoperf import records
from algoperf.experiment_lock import pid_alive

INTERRUPTED = 'interrupted'
PENDING = 'pending'
_TRIAL_GLOB = 'study_*/*_jax/trial_*'


def _is_experiment(path: pathlib.Path) -> bool:
  return bool(list(path.glob(_TRIAL_GLOB))) or any(
    p.exists() for p in (records.study_plan_path(path),
                         records.legacy_study_plan_path(path)))


def _experiments(root: pathlib.Path) -> list[pathlib.Path]:
  """Experiment folders under ``root`` (``root`` itself may be one)."""
  if _is_experiment(root):
    return [root]
  return sorted(p for p in root.iterdir() if p.is_dir() and _is_experiment(p))


def _planned_trials(experiment: pathlib.Path) -> list[dict]:
  try:
    return records.read_study_plan(experiment)[0]
  except (OSError, json.JSONDecodeError, AttributeError):
    return []


def _read_json(path: pathlib.Path) -> dict:
  try:
    return records.read_json(path)
  except (OSError, json.JSONDecodeError):
    return {}


def _state(status: dict) -> str:
  state = status.get('status') or records.RUNNING
  if state == records.RUNNING and status.get('host') == platform.node() and (
      status.get('pid') and not pid_alive(status['pid'])):
    return INTERRUPTED  # Its process is gone: rerun the study to resume.
  return state


def _best(status: dict):
  return status.get('best_metric', status.get('last_eval', {}).get(
    status.get('target_metric')))


def _eta(status: dict, state: str):
  """Upper bound on the wall time left: budget end or --max-steps."""
  last = status.get('last_eval') or {}
  used = last.get('accumulated_submission_time')
  total = last.get('total_duration')
  step = status.get('global_step') or 0
  if state != records.RUNNING or not used or not total:
    return None
  etas = []
  if status.get('budget'):
    etas.append(max(status['budget'] - used, 0) * total / used)
  if status.get('max_steps') and step:
    etas.append(max(status['max_steps'] - step, 0) * total / step)
  return min(etas) if etas else None


def _row(experiment: str, status: dict) -> dict:
  state = _state(status)
  last = status.get('last_eval') or {}
  return {
    'experiment': experiment, 'study': status.get('study'),
    'workload': status.get('workload'), 'trial': status.get('trial'),
    'state': state, 'step': status.get('global_step', 0),
    'metric': status.get('target_metric'), 'best': _best(status),
    'target': status.get('target_value'),
    'used': last.get('accumulated_submission_time'),
    'budget': status.get('budget'), 'eta': _eta(status, state),
    'attempt': status.get('attempt', 0), 'message': status.get('message', ''),
  }


def collect(experiment_dir) -> list[dict]:
  """One row per trial, planned (study plan) or started (status.json)."""
  root = pathlib.Path(experiment_dir)
  if not root.is_dir():
    return []
  rows = {}
  for experiment in _experiments(root):
    for trial in _planned_trials(experiment):
      key = (experiment.name, trial['study'], trial['workload'],
             trial['trial'])
      rows[key] = _row(experiment.name, {**trial, 'status': PENDING})
    for trial_dir in experiment.glob(_TRIAL_GLOB):
      status = _read_json(trial_dir / records.STATUS)
      if not status:
        continue
      key = (experiment.name, status.get('study'), status.get('workload'),
             status.get('trial'))
      rows[key] = _row(experiment.name, status)
  return [rows[k] for k in sorted(rows, key=lambda k: tuple(map(str, k)))]


def _seconds(value) -> str:
  if value is None or (isinstance(value, float) and math.isnan(value)):
    return '-'
  return f'{value:.0f} s' if value >= 10 else f'{value:.1f} s'


_COLORS = {records.TARGET_REACHED: 'green', records.ERROR: 'red',
           records.DIVERGED: 'red', records.FAILED: 'red',
           records.TIMEOUT: 'red', INTERRUPTED: 'magenta',
           records.RUNNING: 'cyan', PENDING: 'dim'}


def render(rows: list[dict], title: str = 'Trials'):
  """A rich Table of ``rows`` with a caption counting trials per state."""
  from rich.table import Table

  table = Table(title=host_paths.to_host(title))
  for column in ('experiment', 'study', 'workload', 'trial', 'state', 'step',
                 'best metric', 'target', 'time / budget', 'ETA', 'message'):
    table.add_column(column, overflow='fold')
  for r in rows:
    color = _COLORS.get(r['state'], 'yellow')
    best = '-' if r['best'] is None else f'{r["best"]:.4f}'
    target = '-' if r['target'] is None else f'{r["metric"]} {r["target"]}'
    table.add_row(
      r['experiment'], str(r['study']), str(r['workload']), str(r['trial']),
      f'[{color}]{r["state"]}[/{color}]', str(r['step']), best, target,
      f'{_seconds(r["used"])} / {_seconds(r["budget"])}',
      _seconds(r['eta']), host_paths.to_host(r['message'] or '')[:80])
  counts = {}
  for r in rows:
    counts[r['state']] = counts.get(r['state'], 0) + 1
  table.caption = ', '.join(f'{n} {s}' for s, n in sorted(counts.items()))
  return table


def print_status(experiment_dir) -> list[dict]:
  rows = collect(experiment_dir)
  console.console().print(render(rows, f'Trials in {experiment_dir}'))
  return rows


@contextlib.contextmanager
def live_table(experiment_dir, enabled: bool = True):
  """Refreshes the table from disk once a second while the block runs."""
  if not enabled:
    yield
    return
  from rich.live import Live

  def current():
    return render(collect(experiment_dir), f'Study {experiment_dir}')

  with Live(get_renderable=current, console=console.console(),
            refresh_per_second=1):
    yield
