"""The one schema of a trial's files, written atomically.

Layout (AlgoPerf's, so its scoring reads ours):
``<experiment_dir>/<name>/study_<k>/<workload>_jax/trial_<i>/`` with
``eval_measurements.csv`` (columns sorted, as AlgoPerf's logger writes them),
``measurements.csv`` (the submission's ``metrics_logger`` scalars),
``hparams.json``, ``meta_data_<n>.json``, ``flags_<n>.json``; plus our
``status.json`` (outcome, message, clock self-check) and
``grad_norms.csv`` where a run logs gradient norms; per experiment name,
``.algoperf/study.json`` (the study plan).
"""

import csv
import datetime
import io
import json
import math
import os
import pathlib
import platform
import subprocess
import tempfile

from algoperf import contention
from algoperf import fs

EVAL_MEASUREMENTS = 'eval_measurements.csv'
MEASUREMENTS = 'measurements.csv'
HPARAMS = 'hparams.json'
STATUS = 'status.json'
GRAD_NORMS = 'grad_norms.csv'
# Harness state of one experiment name: ``<experiment_dir>/<name>/.algoperf/``
# holds its study plan (and lock). A directory, not files beside the studies:
# AlgoPerf's scoring lists every entry of a submission's directory as a study
# and fails on a file, but passes over a study with no workload directories.
HARNESS_DIR = '.algoperf'
STUDY_PLAN = 'study.json'

# Outcomes a trial's status.json can hold.
TARGET_REACHED = 'target_reached'
BUDGET_EXHAUSTED = 'budget_exhausted'
TRAINING_COMPLETE = 'training_complete'  # TrainingCompleteError raised.
MAX_STEPS = 'max_steps'
DIVERGED = 'diverged'
ERROR = 'error'
# Set by the supervisor (algoperf/supervisor.py): the trial's process ended
# without finishing it (exit, signal, disk full), or a submission call did
# not return within the budget plus the grace.
FAILED = 'failed'
TIMEOUT = 'timeout'
RUNNING = 'running'
# A trial a tuner stopped at a generation boundary (RunConfig.pause_at_step):
# not finished; its checkpoint resumes it. Never written to status.json.
PAUSED = 'paused'
# The outcomes of a trial that will not run again.
FINISHED = (TARGET_REACHED, BUDGET_EXHAUSTED, TRAINING_COMPLETE, MAX_STEPS,
            DIVERGED, ERROR, FAILED, TIMEOUT)
# A trial that failed for these reasons (status.json "reason") resumes when
# the same command is rerun: the machine or the data failed, not the
# submission.
RESUMABLE_REASONS = ('no_space', 'io', 'data')


def is_final(status: dict) -> bool:
  """Whether a trial with this status.json will not run again."""
  return (status.get('status') in FINISHED
          and status.get('reason') not in RESUMABLE_REASONS)


def trial_dir(experiment_dir, name, study, workload, trial) -> pathlib.Path:
  return (
    pathlib.Path(experiment_dir) / name / f'study_{study}'
    / f'{workload}_jax' / f'trial_{trial}'
  )


def study_plan_path(experiment) -> pathlib.Path:
  """Where ``<experiment_dir>/<name>``'s study plan is written."""
  return pathlib.Path(experiment) / HARNESS_DIR / STUDY_PLAN


def legacy_study_plan_path(experiment) -> pathlib.Path:
  """Where earlier versions wrote it (read, then moved, on a rerun)."""
  return pathlib.Path(experiment) / STUDY_PLAN


def read_study_plan(experiment) -> tuple[list[dict], list[pathlib.Path]]:
  """The trials an experiment's study plan lists, and the files read.

  An experiment written before the plan moved into ``.algoperf/`` has it at
  the old place; both are read, the old one first.
  """
  trials, paths = [], []
  for path in (legacy_study_plan_path(experiment),
               study_plan_path(experiment)):
    if path.exists():
      trials += read_json(path).get('trials', [])
      paths.append(path)
  return trials, paths


def write_atomic(path: pathlib.Path, text: str) -> None:
  """Writes ``text`` to ``path`` via a temp file + rename: never partial."""
  write_atomic_bytes(path, text.encode())


def write_atomic_bytes(path: pathlib.Path, data: bytes) -> None:
  """Writes ``data`` to ``path`` via a temp file + rename: never partial.

  The file gets the mode a plain ``open`` would (the umask applies).
  """
  path.parent.mkdir(parents=True, exist_ok=True)
  fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f'.{path.name}.')
  try:
    os.fchmod(fd, fs.file_mode())  # mkstemp's 0600 ignores the umask.
    with os.fdopen(fd, 'wb') as f:
      f.write(data)
    os.replace(tmp, path)
  except BaseException:
    if os.path.exists(tmp):
      os.unlink(tmp)
    raise


def write_json(path: pathlib.Path, data) -> None:
  write_atomic(path, json.dumps(data, indent=2, sort_keys=True, default=str))


def read_json(path: pathlib.Path):
  with open(path) as f:
    return json.load(f)


def _csv_text(rows: list[dict], columns: list[str]) -> str:
  buffer = io.StringIO()
  writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction='ignore',
                          lineterminator='\n')
  writer.writeheader()
  for row in rows:
    writer.writerow({k: _format(row.get(k)) for k in columns})
  return buffer.getvalue()


def _format(value):
  if value is None:
    return ''
  if isinstance(value, float) and math.isnan(value):
    return 'nan'
  return value


def write_rows_csv(path: pathlib.Path, rows: list[dict]) -> None:
  """Rewrites the whole CSV (sorted union of columns) atomically."""
  columns = sorted({k for row in rows for k in row})
  write_atomic(path, _csv_text(rows, columns))


def read_rows_csv(path: pathlib.Path) -> list[dict]:
  """Rows with numeric strings turned back into numbers."""
  with open(path, newline='') as f:
    return [{k: _parse(v) for k, v in row.items()} for row in csv.DictReader(f)]


def _parse(text: str):
  if text == '':
    return None
  try:
    number = float(text)
  except ValueError:
    return text
  return int(number) if number.is_integer() and '.' not in text and (
    'e' not in text.lower()) else number


def git_commit() -> str:
  try:
    out = subprocess.run(
      ['git', 'rev-parse', 'HEAD'], capture_output=True, text=True,
      cwd=pathlib.Path(__file__).parent, check=False, timeout=5,
    )
    return out.stdout.strip() or 'unknown'
  except (OSError, subprocess.SubprocessError):
    return 'unknown'


def hardware_and_software(seed: int,
                          benchmark_version: str | None = None) -> dict:
  """The meta_data_<n>.json contents: where and with what a trial ran.

  ``benchmark_version``: that of the suite the trial's workload is in.
  """
  import importlib.metadata as md

  import jax

  versions = {}
  for package in ('jax', 'jaxlib', 'flax', 'optax', 'numpy',
                  'tensorflow-datasets', 'orbax-checkpoint', 'algoperf-bench'):
    try:
      versions[package] = md.version(package)
    except md.PackageNotFoundError:
      versions[package] = None
  devices = jax.devices()
  return {
    'benchmark_version': benchmark_version,
    'timestamp': datetime.datetime.now(datetime.UTC).isoformat(),
    'rng_seed': seed,
    'git_commit': git_commit(),
    'hostname': platform.node(),
    'platform': platform.platform(),
    'python_version': platform.python_version(),
    'cpu_count': os.cpu_count(),
    'processor': contention.cpu_model(),
    'jax_backend': jax.default_backend(),
    'devices': [str(d) for d in devices],
    'num_devices': len(devices),
    'software_versions': versions,
  }


def next_index(directory: pathlib.Path, prefix: str) -> int:
  """The first n for which ``<prefix>_<n>.json`` does not exist yet."""
  n = 0
  while (directory / f'{prefix}_{n}.json').exists():
    n += 1
  return n
