"""The table of a study's trials, read from disk (live, or `algoperf status`).

Trials report through their files only (status.json is rewritten at every
eval), so the same table serves the live display of a running study -- on
any backend, Ray included -- and `algoperf status` run from another shell,
even on another machine that sees the experiment directory.
"""

import contextlib
import json
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
  """The plan's trials, each with the plan's submission path."""
  try:
    trials, paths = records.read_study_plan(experiment)
    # The latest plan (the new place, else the old one) names the submission.
    plan = records.read_json(paths[-1]) if paths else {}
  except (OSError, json.JSONDecodeError, AttributeError):
    return []
  submission = (plan.get('spec') or {}).get('submission')
  return [{'submission': submission, **t} for t in trials]


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


def eta(status: dict, state: str, used: float | None = None,
         step: int | None = None):
  """Upper bound on the wall time left: budget end or --max-steps, at the
  wall-per-submission-second (or per-step) rate of the last eval."""
  last = status.get('last_eval') or {}
  at_eval = last.get('accumulated_submission_time')
  total = last.get('total_duration')
  eval_step = status.get('global_step') or 0
  if state != records.RUNNING or not at_eval or not total:
    return None
  used = at_eval if used is None else used
  step = eval_step if step is None else step
  etas = []
  if status.get('budget'):
    etas.append(max(status['budget'] - used, 0) * total / at_eval)
  if status.get('max_steps') and eval_step:
    etas.append(max(status['max_steps'] - step, 0) * total / eval_step)
  return min(etas) if etas else None


def _submission_name(path) -> str | None:
  if not path:
    return None
  path = pathlib.PurePath(str(path))
  return path.parent.name if path.name == 'submission.py' else path.name


def _row(experiment: str, status: dict, live=None) -> dict:
  """One trial's row; ``live`` (live_state.Live) for a running trial."""
  state = _state(status)
  last = status.get('last_eval') or {}
  metric = status.get('target_metric')
  # A finished trial: the clock's total (written at the end), which
  # includes the steps after the last eval.
  used = (status.get('accumulators') or {}).get(
    'accumulated_submission_time', last.get('accumulated_submission_time'))
  step = status.get('global_step', 0)
  if live is not None and state == records.RUNNING:
    used = live.used if live.used is not None else used
    step = live.step if live.step is not None else step
  return {
    'experiment': experiment, 'study': status.get('study'),
    'submission': _submission_name(status.get('submission')),
    'workload': status.get('workload'), 'trial': status.get('trial'),
    'state': state,
    'phase': live.phase if live is not None and state == records.RUNNING
    else None,
    'step': step, 'metric': metric,
    'direction': status.get('metric_direction', 'max'),
    'best': _best(status), 'best_step': status.get('best_step'),
    'last': last.get(metric) if metric else None,
    'target': status.get('target_value'),
    'used': used, 'budget': status.get('budget'),
    'eta': eta(status, state, used, step),
    'attempt': status.get('attempt', 0),
    'message': host_paths.to_host(status.get('message', '')),
    'contended': bool(status.get('contended')),
  }


def row_of(status: dict) -> dict:
  """The row of one trial's status.json alone."""
  return _row('', status)


def _live(experiment: pathlib.Path, status: dict, first_steps: dict | None):
  """live_state.Live of a running trial, or None. ``first_steps`` remembers
  the step each attempt was first seen at (resumed trials); without it only
  a fresh trial's compiling phase is known (its first step is 0)."""
  from algoperf import live_state

  if _state(status) != records.RUNNING:
    return None
  path = live_state.heartbeat_path(experiment, status.get('study'),
                                   status.get('workload'), status.get('trial'))
  beat = live_state.read_heartbeat(path)
  if beat is None:
    return None
  first = None if status.get('resumed') else 0
  if first_steps is not None and beat['clock_started'] and beat['step'] >= 0:
    key = (str(path), status.get('attempt'))
    first = first_steps.setdefault(key, beat['step'] if first is None
                                   else first)
  return live_state.now(beat, first, live_state.is_this_host(status))


def collect(experiment_dir, first_steps: dict | None = None) -> list[dict]:
  """One row per trial, planned (study plan) or started (status.json);
  a running trial's step, time and phase are read from its heartbeat."""
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
      rows[key] = _row(experiment.name, status,
                       _live(experiment, status, first_steps))
  return [rows[k] for k in sorted(rows, key=lambda k: tuple(map(str, k)))]


def print_status(experiment_dir) -> list[dict]:
  from algoperf import trial_table

  rows = collect(experiment_dir)
  console.console().print(trial_table.render(
    rows, host_paths.to_host(f'Trials in {experiment_dir}')))
  return rows


@contextlib.contextmanager
def live_table(experiment_dir, enabled: bool = True):
  """In a terminal, the table refreshed from disk (and the trials'
  heartbeats) once a second while the block runs, then erased: the caller
  prints the final table. Elsewhere (a log), a line per trial as it
  starts, compiles, trains and ends, and a count every 30 s."""
  if not enabled:
    yield
    return
  from algoperf import progress

  out = progress.console()
  if not progress.is_live(out):
    seen_first_steps = {}
    with progress.study_lines(
        lambda: collect(experiment_dir, seen_first_steps), out):
      yield
    print_status(experiment_dir)
    return
  from rich.live import Live

  from algoperf import trial_table

  first_steps = {}

  def current():
    return trial_table.render(collect(experiment_dir, first_steps),
                              f'Study {experiment_dir}')

  with Live(get_renderable=current, console=out, refresh_per_second=1,
            transient=True):
    yield
  print_status(experiment_dir)  # What the live table showed last, kept.
