"""`pack`: copy the small files scoring needs into the committed logs dir.

Per trial: eval_measurements.csv, hparams.json, status.json and the
meta_data_<n>.json / flags_<n>.json files; per algorithm: its study plan
(``.algoperf/study.json``, where AlgoPerf's scorer passes over it); beside
the logs: the run record and targets snapshot (``run_info``). Checkpoints,
gradient norms and the submission's own measurements.csv stay behind. The
layout is kept, so `algoperf score` reads the packed logs as it reads the
experiment's, and AlgoPerf's scorer reads them too (nothing but submission
directories in the logs, nothing but studies in those). The new copy of
the logs replaces the old one in one rename: trials removed from the
experiment directory leave nothing stale behind. An experiment directory
of an earlier layout (files among the algorithms, plans at
``<algorithm>/study.json``) is packed into this layout.
"""

import os
import pathlib
import shutil
import tempfile

from algoperf import records
from algoperf.reference_leaderboard import run_info
from algoperf.reference_leaderboard.run_info import LeaderboardError

TRIAL_FILES = (records.EVAL_MEASUREMENTS, records.HPARAMS, records.STATUS)
TRIAL_PREFIXES = ('meta_data_', 'flags_')
BESIDE_FILES = (run_info.INFO_FILE, run_info.TARGETS_FILE)


def _wanted(name: str) -> bool:
  return name in TRIAL_FILES or (name.startswith(TRIAL_PREFIXES)
                                 and name.endswith('.json'))


def packed_files(logs: pathlib.Path) -> dict[pathlib.Path, pathlib.Path]:
  """Every file to copy: path in the packed logs -> path in ``logs``."""
  found = {}
  for algorithm in sorted(p for p in logs.iterdir() if p.is_dir()
                          and any(p.glob('study_*'))):
    for plan in (records.legacy_study_plan_path(algorithm),
                 records.study_plan_path(algorithm)):
      if plan.exists():  # The current place wins over the old one.
        found[records.study_plan_path(algorithm).relative_to(logs)] = plan
    for trial in sorted(algorithm.glob('study_*/*_jax/trial_*')):
      for path in sorted(trial.iterdir()):
        if path.is_file() and _wanted(path.name):
          found[path.relative_to(logs)] = path
  return found


def unfinished_trials(logs: pathlib.Path) -> list[str]:
  out = []
  for status in sorted(logs.glob('*/study_*/*_jax/trial_*/'
                                 + records.STATUS)):
    if records.read_json(status).get('status') not in records.FINISHED:
      out.append(str(status.parent.relative_to(logs)))
  return out


def pack(experiment_dir, logs_dir, out=print) -> list[pathlib.Path]:
  """Copies the logs into ``logs_dir`` (replacing it) and the run record
  and targets beside it; returns the paths written.

  Raises:
    LeaderboardError: no run record in ``experiment_dir`` (not a
      leaderboard experiment directory).
  """
  source = run_info.logs_dir(experiment_dir)
  target = pathlib.Path(logs_dir)
  info = run_info.record_path(source, run_info.INFO_FILE)
  if not info.exists():
    raise LeaderboardError(
      f'{info} not found: pack a directory written by '
      '`scripts/cpu_leaderboard.py run` (see --experiment-dir).')
  files = packed_files(source)
  target.parent.mkdir(parents=True, exist_ok=True)
  staging = pathlib.Path(tempfile.mkdtemp(prefix=f'.{target.name}.',
                                          dir=target.parent))
  try:
    for relative, path in files.items():
      (staging / relative).parent.mkdir(parents=True, exist_ok=True)
      shutil.copyfile(path, staging / relative)
    os.chmod(staging, 0o755)  # mkdtemp makes 0700.
    _replace(staging, target)
  except BaseException:
    shutil.rmtree(staging, ignore_errors=True)
    raise
  written = [target / relative for relative in files]
  for name in BESIDE_FILES:
    path = run_info.record_path(source, name)
    if path.exists():
      written.append(target.parent / name)
      records.write_atomic(written[-1], path.read_text())
  for trial in unfinished_trials(source):
    out(f'warning: {trial} has not finished; packed as it is (rerun `run` '
        'to finish it, then pack again).')
  out(f'Packed {len(written)} files into {target} and beside it.')
  return written


def _replace(staging: pathlib.Path, target: pathlib.Path) -> None:
  if not target.exists():
    staging.rename(target)
    return
  old = target.with_name(f'.{target.name}.old')
  shutil.rmtree(old, ignore_errors=True)
  target.rename(old)
  staging.rename(target)
  shutil.rmtree(old)
