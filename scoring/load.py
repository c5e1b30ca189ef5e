"""Reads experiment directories in AlgoPerf's layout, fast and tolerant.

Layout: ``<dir>/<submission>/study_<k>/<workload>_<framework>/trial_<i>/
eval_measurements.csv``. ``<dir>`` may also be one submission's directory.
Sibling directories ``<submission>-YYYY-MM-DD-HH-MM-SS`` (AlgoPerf's
timestamped re-runs) are merged into ``<submission>``, as AlgoPerf does.

Only the columns scoring needs are parsed (the target metric and the time
columns), with plain string splitting: no pandas, so reading ~1,400 logs
takes a few hundred milliseconds. Anything odd becomes a warning naming the
file (see ``scoring.errors.Problems``), never a silent change of score.
"""

import csv
import dataclasses
import io
import json
import math
import os
import re
import stat

from scoring.errors import Problems
from scoring.errors import ScoringError
from scoring.workload_targets import TargetsConfig
from scoring.workload_targets import split_framework

EVAL_CSV = 'eval_measurements.csv'
# Far above any real log (AlgoPerf's largest are ~1 MB): a bigger file is
# refused rather than read into memory.
MAX_CSV_BYTES = 256 << 20
TIME_COLUMNS = ('score', 'global_step', 'accumulated_submission_time')
_TIMESTAMPED = re.compile(r'(.+)-\d{4}(-\d{2}){5}$')
_STUDY = re.compile(r'study_(\d+)$')
_TRIAL = re.compile(r'trial_(\d+)$')
_NAN = math.nan


@dataclasses.dataclass
class TrialLog:
  """One trial's evals: the target metric and the time columns."""

  submission: str
  study: str
  workload: str  # without the framework suffix.
  framework: str
  trial: str  # 'trial_<i>'
  path: str  # its eval_measurements.csv
  order: int  # position in its directory listing (AlgoPerf's row order).
  metric: list[float]
  columns: dict[str, list[float]]  # time columns present in the file.

  @property
  def trial_number(self) -> int:
    return int(self.trial.split('_')[1])


@dataclasses.dataclass
class Pool:
  root: str
  trials: dict[str, list[TrialLog]]  # by submission, in reading order.
  versions: dict[str, str]  # benchmark_version -> an example file naming it.
  rulesets: dict[str, str] = dataclasses.field(default_factory=dict)

  @property
  def submissions(self) -> list[str]:
    return sorted(self.trials)


def load_pool(root: str, targets: TargetsConfig, workloads: tuple[str, ...],
              problems: Problems) -> Pool:
  """Reads every trial of ``workloads`` under ``root``.

  Args:
    root: a directory of submissions, or one submission's directory.
    targets: gives each workload's metric column.
    workloads: the workloads to read (base + held-out); other known
      workloads (extra variants) are skipped without reading them.
    problems: collects warnings.

  Raises:
    ScoringError: ``root`` is missing or holds no logs at all.
  """
  if not os.path.isdir(root):
    raise ScoringError(
      f'{root} is not a directory. Pass an experiment directory holding '
      '<submission>/study_<k>/<workload>_<framework>/trial_<i>/'
      'eval_measurements.csv.'
    )
  pool = Pool(root=root, trials={}, versions={})
  wanted = frozenset(workloads)
  for submission, path in _submission_dirs(root, problems):
    trials = pool.trials.setdefault(submission, [])
    for study, study_path in _subdirs(path, problems):
      if not _STUDY.match(study):
        problems.add('unexpected directory', study_path,
                     'not a study_<k> directory; ignored.')
        continue
      _load_study(pool, trials, submission, study, study_path, targets,
                  wanted, problems)
  for submission in [s for s, t in pool.trials.items() if not t]:
    del pool.trials[submission]
  if not pool.trials:
    raise ScoringError(
      f'No eval_measurements.csv of a scored workload found under {root}. '
      'Expected <submission>/study_<k>/<workload>_<framework>/trial_<i>/'
      f'eval_measurements.csv for workloads: {", ".join(workloads)} (from '
      f'{targets.source}; pass --workload-targets for other workloads).'
    )
  return pool


def _subdirs(path: str, problems: Problems | None = None
             ) -> list[tuple[str, str]]:
  """Child directories in listing order; hidden ones (the harness's
  ``.algoperf/``, ``.git/``) are not logs. Unreadable ones (symlink loops,
  permissions) and files where a directory is expected are warned about
  and skipped."""
  try:
    with os.scandir(path) as entries:
      entries = list(entries)
  except OSError as e:
    if problems is not None:
      problems.add('unreadable directory', path,
                   f'cannot be listed ({e.strerror or e}); ignored.')
    return []
  found = []
  for entry in entries:
    if entry.name.startswith('.'):
      continue
    try:
      is_dir = entry.is_dir()
      if is_dir and entry.is_symlink():
        os.stat(entry.path)  # A loop raises here.
    except OSError as e:
      if problems is not None:
        problems.add('unreadable directory', entry.path,
                     f'cannot be read ({e.strerror or e}); ignored.')
      continue
    if is_dir:
      found.append((entry.name, entry.path))
    elif problems is not None and (_STUDY.match(entry.name)
                                   or _TRIAL.match(entry.name)):
      problems.add('not a directory', entry.path,
                   'a file where a directory is expected; ignored.')
  return found


def _submission_dirs(root, problems) -> list[tuple[str, str]]:
  """(submission, directory) by submission name; a submission's directories
  (itself and its timestamped reruns) in the order ``root`` lists them, as
  AlgoPerf's glob merges them (the order ties are broken in)."""
  children = _subdirs(root, problems)
  if any(_STUDY.match(name) for name, _ in children):
    return [(os.path.basename(os.path.normpath(root)), root)]
  found, seen = [], {}
  # Real directories first (a symlink to one of them is the duplicate);
  # the sort is stable, so each group keeps the listing order.
  for name, path in sorted(children, key=lambda c: os.path.islink(c[1])):
    match = _TIMESTAMPED.match(name)
    submission = match.group(1) if match else name
    if not any(_STUDY.match(n) for n, _ in _subdirs(path)):
      problems.add('not a submission', path,
                   'holds no study_<k> directories; ignored.')
      continue
    real = os.path.realpath(path)
    if real in seen:
      problems.add('duplicate submission', path,
                   f'the same directory as {seen[real]} (a symlink); not '
                   'scored twice.')
      continue
    seen[real] = path
    found.append((submission, path))
  return sorted(found, key=lambda pair: pair[0])  # Stable: keeps listing.


def _load_study(pool, trials, submission, study, study_path, targets, wanted,
                problems):
  for dir_name, workload_path in _subdirs(study_path, problems):
    if _TRIAL.match(dir_name):
      problems.add(
        'misplaced trial', workload_path,
        'trial directory directly under a study, not under '
        '<workload>_<framework>/; ignored (AlgoPerf ignores it too).')
      continue
    workload, framework = split_framework(dir_name)
    if workload not in targets.workloads:
      problems.add(
        'unknown workload', workload_path,
        f'workload {workload!r} is not in the targets file '
        f'{targets.source}; ignored.{targets.closest(workload)}')
      continue
    if workload not in wanted:
      continue  # An extra variant that does not count toward the score.
    metric_col = targets.workloads[workload].column
    trial_dirs = [(n, p) for n, p in _subdirs(workload_path, problems)
                  if _TRIAL.match(n)]
    if trial_dirs:
      _note_version(pool, trial_dirs[0][1])
    for order, (trial, trial_path) in enumerate(trial_dirs):
      csv_path = os.path.join(trial_path, EVAL_CSV)
      parsed = read_eval_csv(csv_path, metric_col, problems)
      if parsed is None:
        continue
      _flag_unfinished(trial_path, problems)
      metric, columns = parsed
      trials.append(TrialLog(submission, study, workload, framework, trial,
                             csv_path, order, metric, columns))


def _flag_unfinished(trial_path: str, problems: Problems) -> None:
  """A trial whose status.json (ours) says it did not finish cleanly, or
  that it was measured under contention."""
  try:
    with open(os.path.join(trial_path, 'status.json')) as f:
      status = json.load(f)
  except (OSError, ValueError):
    return  # AlgoPerf's logs have none.
  if not isinstance(status, dict):
    return
  if status.get('contended') is True:
    problems.add('contended trial', trial_path,
                 'measured on a busy machine (status.json: '
                 f'{str(status.get("contention", ""))[:160]}); its times are '
                 'not comparable with a quiet run\'s.')
  state = status.get('status')
  if state in ('running', 'failed', 'timeout', 'error'):
    what = ('was interrupted (status running)' if state == 'running'
            else f'ended with status {state!r}')
    problems.add('unfinished trial', trial_path,
                 f'{what}: {str(status.get("message", ""))[:120]}; scored '
                 'from the evals it logged.')


def _note_version(pool: Pool, trial_path: str) -> None:
  """Records the benchmark_version and ruleset a trial's metadata names.

  One trial per workload directory is enough to catch pools that mix them.
  """
  with os.scandir(trial_path) as entries:
    names = sorted(e.name for e in entries
                   if e.name.startswith(('meta_data_', 'flags_')))
  for name in names:
    path = os.path.join(trial_path, name)
    try:
      with open(path) as f:
        data = json.load(f)
      version = data.get('benchmark_version')
      # Ours write 'ruleset'; AlgoPerf's flags file 'tuning_ruleset'.
      ruleset = data.get('ruleset') or data.get('tuning_ruleset')
    except (OSError, ValueError, AttributeError):
      continue
    if version is not None:
      pool.versions.setdefault(str(version), path)
    if ruleset in ('external', 'self', 'pbt'):
      pool.rulesets.setdefault(ruleset, path)


def read_eval_csv(path: str, metric_col: str, problems: Problems,
                  extra: tuple[str, ...] = ()):
  """Parses one eval_measurements.csv.

  Returns:
    (metric values, LazyColumns of the time columns) or None when the file
    is missing, empty or lacks its header; a row cut short (a trial still
    running or killed) is dropped with a warning, a non-number becomes NaN.
  """
  try:
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_CSV_BYTES:
      problems.add('unreadable csv', path,
                   'not a regular file of at most '
                   f'{MAX_CSV_BYTES >> 20} MiB (a directory, device, FIFO or '
                   'oversized file); trial ignored.')
      return None
    with open(path, 'rb') as f:
      text = f.read(MAX_CSV_BYTES).decode('utf-8', errors='replace')
  except FileNotFoundError:
    problems.add('missing csv', path,
                 'trial has no eval_measurements.csv (still running or '
                 'crashed?); trial ignored.')
    return None
  except OSError as e:  # A directory of that name, permissions, a loop.
    problems.add('unreadable csv', path,
                 f'cannot be read ({e.strerror or e}); trial ignored.')
    return None
  lines = text.splitlines()
  if not lines or not lines[0].strip():
    problems.add('empty csv', path, 'file is empty; trial ignored.')
    return None
  rows = _split_rows(lines, text, path, problems)
  index = {name: i for i, name in enumerate(rows[0])}
  body = rows[1:]
  if not body:
    problems.add('no evals', path, 'header only, no evals; trial never '
                 'reaches the target.')
  cells = list(zip(*body)) if body else [()] * len(index)
  if metric_col in index:
    metric = _to_floats(cells[index[metric_col]], metric_col, path, problems)
  else:
    metric = [_NAN] * len(body)
    problems.add('missing metric', path,
                 f'no {metric_col} column; the trial never reaches the '
                 'target.')
  infinite = [i + 2 for i, v in enumerate(metric) if math.isinf(v)]
  if infinite:
    problems.add('infinite metric', path,
                 f'{metric_col} is +-inf on line(s) '
                 f'{", ".join(map(str, infinite[:5]))}; read as NaN, which '
                 'never meets a target.')
    metric = [_NAN if math.isinf(v) else v for v in metric]
  if any(map(math.isnan, metric)):
    problems.add('nan metric', path,
                 f'{sum(map(math.isnan, metric))} of {len(metric)} evals have '
                 f'NaN {metric_col} (diverged?); NaN never meets a target.')
  columns = LazyColumns(path, problems, len(body))
  for name in TIME_COLUMNS + tuple(extra):
    if name in index:
      columns.cells[name] = cells[index[name]]
  if _bad_times(columns, path, problems):
    return None
  return metric, columns


def _bad_times(columns, path, problems) -> bool:
  """Times that cannot be real (<= 0, negative steps, infinite) exclude
  the trial: a time-to-target from them would change every score."""
  for name in TIME_COLUMNS:
    if name not in columns.cells:
      continue
    values = columns[name]
    low = 0 if name == 'global_step' else 1e-300
    bad = [i + 2 for i, v in enumerate(values)
           if math.isinf(v) or v < low]
    if bad:
      problems.add('bad time', path,
                   f'{name} is negative, zero or infinite on line(s) '
                   f'{", ".join(map(str, bad[:5]))}; trial excluded.')
      return True
  return False


class LazyColumns(dict):
  """Columns parsed to floats on first access (most are never needed).

  A column absent from the file reads as all-NaN, with a warning.
  """

  def __init__(self, path: str, problems: Problems, length: int):
    super().__init__()
    self.path = path
    self.problems = problems
    self.length = length
    self.cells = {}

  def __missing__(self, name: str) -> list[float]:
    if name in self.cells:
      values = _to_floats(self.cells[name], name, self.path, self.problems)
    else:
      self.problems.add('missing column', self.path,
                        f'no {name} column; read as NaN.')
      values = [_NAN] * self.length
    self[name] = values
    return values

  def __contains__(self, name) -> bool:
    return name in self.cells or dict.__contains__(self, name)


def _split_rows(lines, text, path, problems) -> list[list[str]]:
  rows = None
  if '"' in text:
    try:
      rows = [r for r in csv.reader(io.StringIO(text)) if r]
    except csv.Error as e:  # NUL bytes, stray newlines in quotes: garbage.
      problems.add('malformed csv', path, f'not valid CSV ({e}); read by '
                   'plain splitting.')
  if rows is None:
    rows = [line.split(',') for line in lines if line]
  width = len(rows[0])
  if len(set(map(len, rows))) == 1:
    return rows
  kept = [rows[0]]
  for number, row in enumerate(rows[1:], start=2):
    if len(row) == width:
      kept.append(row)
    elif number == len(rows):
      problems.add('truncated csv', path,
                   f'last row (line {number}) has {len(row)} of {width} '
                   'fields (file cut short); row ignored.')
    else:
      problems.add('malformed csv', path,
                   f'line {number} has {len(row)} of {width} fields; row '
                   'ignored.')
  return kept


def _to_floats(cells, column, path, problems) -> list[float]:
  try:
    return list(map(float, cells))
  except ValueError:
    pass
  out = []
  bad = 0
  for cell in cells:
    try:
      out.append(float(cell))
    except ValueError:
      out.append(_NAN)
      bad += cell.strip() != ''
  if bad:
    problems.add('bad value', path,
                 f'{bad} non-numeric value(s) in {column}; read as NaN.')
  return out
