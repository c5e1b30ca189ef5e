"""`pack`: copy the small files scoring needs into the committed logs dir.

Per trial: eval_measurements.csv, hparams.json, status.json and the
meta_data_<n>.json / flags_<n>.json files; per algorithm: study.json; at
the top: the run record and targets snapshot (``run_info``). Checkpoints,
gradient norms and the submission's own measurements.csv stay behind. The
layout is kept, so `algoperf score` reads the packed directory as it reads
the experiment directory. The new copy replaces the old one in one rename:
trials removed from the experiment directory leave nothing stale behind.
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
TOP_FILES = (run_info.INFO_FILE, run_info.TARGETS_FILE)
ALGORITHM_FILES = ('study.json',)


def _wanted(name: str) -> bool:
  return name in TRIAL_FILES or (name.startswith(TRIAL_PREFIXES)
                                 and name.endswith('.json'))


def packed_files(experiment_dir: pathlib.Path) -> list[pathlib.Path]:
  """Paths (relative to ``experiment_dir``) of every file to copy."""
  found = [pathlib.Path(n) for n in TOP_FILES
           if (experiment_dir / n).exists()]
  for algorithm in sorted(p for p in experiment_dir.iterdir() if p.is_dir()):
    found += [p.relative_to(experiment_dir) for p in
              (algorithm / n for n in ALGORITHM_FILES) if p.exists()]
    for trial in sorted(algorithm.glob('study_*/*_jax/trial_*')):
      found += [p.relative_to(experiment_dir) for p in sorted(trial.iterdir())
                if p.is_file() and _wanted(p.name)]
  return found


def unfinished_trials(experiment_dir: pathlib.Path) -> list[str]:
  out = []
  for status in sorted(experiment_dir.glob('*/study_*/*_jax/trial_*/'
                                           + records.STATUS)):
    if records.read_json(status).get('status') not in records.FINISHED:
      out.append(str(status.parent.relative_to(experiment_dir)))
  return out


def pack(experiment_dir, logs_dir, out=print) -> list[pathlib.Path]:
  """Copies the files into ``logs_dir`` (replacing it); returns them.

  Raises:
    LeaderboardError: no run record in ``experiment_dir`` (not a
      leaderboard experiment directory).
  """
  source = pathlib.Path(experiment_dir)
  target = pathlib.Path(logs_dir)
  if not (source / run_info.INFO_FILE).exists():
    raise LeaderboardError(
      f'{source / run_info.INFO_FILE} not found: pack a directory written by '
      '`scripts/cpu_leaderboard.py run` (see --experiment-dir).')
  files = packed_files(source)
  target.parent.mkdir(parents=True, exist_ok=True)
  staging = pathlib.Path(tempfile.mkdtemp(prefix=f'.{target.name}.',
                                          dir=target.parent))
  try:
    for relative in files:
      (staging / relative).parent.mkdir(parents=True, exist_ok=True)
      shutil.copyfile(source / relative, staging / relative)
    os.chmod(staging, 0o755)  # mkdtemp makes 0700.
    _replace(staging, target)
  except BaseException:
    shutil.rmtree(staging, ignore_errors=True)
    raise
  for trial in unfinished_trials(source):
    out(f'warning: {trial} has not finished; packed as it is (rerun `run` '
        'to finish it, then pack again).')
  out(f'Packed {len(files)} files into {target}.')
  return files


def _replace(staging: pathlib.Path, target: pathlib.Path) -> None:
  if not target.exists():
    staging.rename(target)
    return
  old = target.with_name(f'.{target.name}.old')
  shutil.rmtree(old, ignore_errors=True)
  target.rename(old)
  staging.rename(target)
  shutil.rmtree(old)
