"""The targets a directory is scored against, and how they were chosen.

Without ``--workload-targets``, in this order:

1. ``workload_targets.json`` beside the logs directory (in its parent; for
   one submission's directory, beside the logs directory holding it): where
   a leaderboard keeps the targets its trials ran against. Earlier versions
   kept it inside the logs directory; it is read there too.
2. The targets recorded with the trials: each of our trials' status.json
   names its target metric, value and direction, its meta_data_<n>.json the
   benchmark version. Every logged workload must have them, and all its
   trials the same ones. Base workloads are the logged ones that are no
   suite's variant; no held-out list (so v0.6 rules unless told otherwise).
3. The builtin whose base workloads the logs cover most (AlgoPerf's
   published logs record no targets).

The choice is said in one line (``TargetsChoice.how``) that the CLIs print
first.
"""

import dataclasses
import json
import os
import pathlib

from algoperf import registry
from algoperf.errors import WorkloadError
from scoring import workload_targets
from scoring.errors import ScoringError
from scoring.workload_targets import TargetsConfig
from scoring.workload_targets import WorkloadTarget

BESIDE_FILE = 'workload_targets.json'
RECORDED = 'recorded with the trials'
_TRIALS = ('*/study_*/*/trial_*', 'study_*/*/trial_*')


@dataclasses.dataclass(frozen=True)
class TargetsChoice:
  config: TargetsConfig
  how: str  # e.g. 'docs/leaderboard/workload_targets.json (beside ...)'.


def choose(root: str, requested: str | None) -> TargetsChoice:
  """The targets for ``root``: ``requested`` (a builtin or a file), else the
  first of the module docstring's sources that has them."""
  if requested:
    return TargetsChoice(workload_targets.load_targets(requested),
                         f'{requested} (--workload-targets)')
  beside = beside_file(root)
  if beside is not None:
    return TargetsChoice(workload_targets.load_targets(beside),
                         f'{beside} (beside the logs; --workload-targets '
                         'to use others)')
  inside = os.path.join(root, BESIDE_FILE)
  if os.path.isfile(inside):
    return TargetsChoice(workload_targets.load_targets(inside),
                         f'{inside} (in the logs, where earlier versions '
                         'kept it; --workload-targets to use others)')
  recorded = recorded_targets(root)
  if recorded is not None:
    return TargetsChoice(recorded, f'{RECORDED} (their status.json; '
                         '--workload-targets to use others)')
  name = builtin_covering(root)
  return TargetsChoice(
    workload_targets.load_targets(name),
    f'builtin {name} (none beside the logs or recorded with the trials; '
    'the builtin whose base workloads the logs cover most)')


def beside_file(root: str) -> str | None:
  """``workload_targets.json`` beside ``root`` (or beside its parent when
  ``root`` is one submission's directory), if there is one."""
  root = os.path.normpath(root)
  parents = [os.path.dirname(root)]
  if _is_submission(root):
    parents.append(os.path.dirname(parents[0]))
  for parent in parents:
    path = os.path.join(parent or '.', BESIDE_FILE)
    if os.path.isfile(path):
      return path
  return None


def _is_submission(path: str) -> bool:
  return any(name.startswith('study_') for name in _listdir(path))


@dataclasses.dataclass(frozen=True)
class _Record:
  target: WorkloadTarget
  path: str


def recorded_targets(root: str) -> TargetsConfig | None:
  """The targets the trials under ``root`` record, or None if any lacks
  them (or there are no trials).

  Raises:
    ScoringError: trials of one workload recorded different targets.
  """
  trial_dirs = [p for pattern in _TRIALS
                for p in pathlib.Path(root).glob(pattern) if p.is_dir()]
  records, versions = {}, set()
  for trial in trial_dirs:
    record = _read_record(trial)
    if record is None:
      return None
    _check_same(records.setdefault(record.target.name, record), record)
    versions.update(_versions(trial))
  if not records or len(versions) != 1:
    return None  # Several versions: scoring says so, naming the files.
  return _config(versions.pop(), {n: r.target for n, r in records.items()})


def _read_record(trial: pathlib.Path) -> _Record | None:
  workload = workload_targets.split_framework(trial.parent.name)[0]
  try:
    with open(trial / 'status.json') as f:
      status = json.load(f)
    metric = status['target_metric'].removeprefix('validation/')
    target = WorkloadTarget(
      name=workload, metric=metric, direction=status['metric_direction'],
      validation_target=float(status['target_value']))
  except (OSError, ValueError, KeyError, TypeError, AttributeError):
    return None
  if target.direction not in registry.DIRECTIONS:
    return None
  return _Record(target, str(trial / 'status.json'))


def _check_same(first: _Record, other: _Record) -> None:
  if first.target == other.target:
    return
  a, b = first.target, other.target
  raise ScoringError(
    f'Trials of {a.name} ran against different targets: {a.metric} '
    f'{a.validation_target} ({a.direction}) in {first.path}, {b.metric} '
    f'{b.validation_target} ({b.direction}) in {other.path}. Score them '
    'separately, or pass --workload-targets to score both against one.')


def _versions(trial: pathlib.Path) -> set[str]:
  found = set()
  for path in trial.glob('meta_data_*.json'):
    try:
      with open(path) as f:
        version = json.load(f).get('benchmark_version')
    except (OSError, ValueError, AttributeError):
      continue
    if version is not None:
      found.add(str(version))
  return found


def _config(version: str, targets: dict[str, WorkloadTarget]
            ) -> TargetsConfig | None:
  """Adds what the suite of ``version`` knows: which workloads are
  variants, step hints, budgets. None: no suite has that version."""
  suite = suite_at(version)
  if suite is None:
    return None
  workloads = {n: _with_facts(t, suite.workloads.get(n))
               for n, t in targets.items()}
  order = {n: i for i, n in enumerate(suite.workloads)}
  bases = sorted((n for n, t in workloads.items() if not t.base_name),
                 key=lambda n: (order.get(n, len(order)), n))
  return TargetsConfig(benchmark_version=version, base_workloads=tuple(bases),
                       held_out_workloads=(), workloads=workloads,
                       source=RECORDED)


def suite_at(version: str):
  """The suite whose current or earlier version is ``version`` (that
  version's view of it); None when no suite has it."""
  for suite in registry.suites().values():
    if version == suite.benchmark_version:
      return suite
    try:
      return suite.version(version)
    except WorkloadError:
      continue
  return None


def _with_facts(target: WorkloadTarget, facts) -> WorkloadTarget:
  if facts is None:
    return target  # Not in the suite: a base workload with its target only.
  return dataclasses.replace(
    target, step_hint=facts.step_hint, base_name=facts.base_name,
    max_allowed_runtime_sec=facts.max_allowed_runtime_sec)


def builtin_covering(root: str) -> str:
  """The builtin targets whose base workloads the logs cover most."""
  logged = set()
  for dirpath in _study_dirs(root):
    logged.update(workload_targets.split_framework(name)[0]
                  for name in _listdir(dirpath)
                  if os.path.isdir(os.path.join(dirpath, name)))
  best, best_overlap = next(iter(workload_targets.BUILTIN)), -1
  for name in workload_targets.BUILTIN:
    config = workload_targets.load_targets(name)
    overlap = len(logged & set(config.base_workloads))
    if overlap > best_overlap:
      best, best_overlap = name, overlap
  return best


def _study_dirs(root: str):
  for name in _listdir(root):
    path = os.path.join(root, name)
    if name.startswith('study_'):
      yield path
    else:
      yield from (os.path.join(path, s) for s in _listdir(path)
                  if s.startswith('study_'))


def _listdir(path: str) -> list[str]:
  """Entries of a directory; none for a file, a symlink loop or an
  unreadable folder (scoring's loader warns about those, naming them)."""
  try:
    return os.listdir(path)
  except OSError:
    return []
