"""AlgoPerf's official scoring code on a logs directory, next to ours.

The official code (``scoring/`` of mlcommons/submissions_algorithms at
``official_layout.OFFICIAL_COMMIT``) is never copied here. ``locate`` takes
a checkout of it: a work tree, an exported tree, or a git directory (bare
ones too; the pinned commit's ``scoring/`` is then exported to a temporary
directory), and checks that its scoring files are the pinned commit's,
byte for byte (git blob ids). ``run`` calls ``python -m
scoring.score_submissions`` with that tree as working directory and
``PYTHONPATH``: its package is named ``scoring`` as ours is, so it never
runs from our tree. ``compare`` sets its scores.csv and time_to_targets.csv
beside ours, cell by cell.
"""

import contextlib
import csv
import dataclasses
import hashlib
import io
import math
import os
import pathlib
import subprocess
import tarfile
import tempfile

from scoring.errors import ScoringError
from scoring.official_layout import OFFICIAL_COMMIT

# The pinned commit's files that scoring runs, by git blob id.
OFFICIAL_FILES = {
  'scoring/__init__.py': 'e69de29bb2d1d6434b8b29ae775ad8c2e48c5391',
  'scoring/config.py': '4fbb23f2737946a1fff797300ba19b8906f6cbcf',
  'scoring/performance_profile.py':
    'a5b94a460253eea4d9656fa8ef7024f4711de3b4',
  'scoring/score_submissions.py': '819305c9545f3ec4c78bea8894b8176518f149af',
  'scoring/scoring_utils.py': '6113248df4c134498298ad65258ccb7bb833a1d4',
}
TOLERANCE = 1e-9


def blob_id(data: bytes) -> str:
  """The id git gives ``data`` as a file (``git hash-object``)."""
  return hashlib.sha1(b'blob %d\0' % len(data) + data).hexdigest()


@contextlib.contextmanager
def locate(path: str):
  """Yields a directory holding the pinned commit's ``scoring/``.

  Raises:
    ScoringError: not a checkout of it, or its files differ from the pin.
  """
  root = pathlib.Path(path)
  if (root / 'scoring' / 'score_submissions.py').is_file():
    _check_pinned(root)
    yield str(root)
    return
  if (root / 'HEAD').is_file() or (root / '.git').exists():
    with tempfile.TemporaryDirectory(prefix='algoperf-official-') as tmp:
      _export(root, pathlib.Path(tmp))
      _check_pinned(pathlib.Path(tmp))
      yield tmp
    return
  raise ScoringError(
    f'{path} holds neither scoring/score_submissions.py nor a git '
    'repository. Pass a checkout of https://github.com/'
    f'mlcommons/submissions_algorithms at {OFFICIAL_COMMIT}, or its git '
    'directory.')


def _export(git_dir: pathlib.Path, into: pathlib.Path) -> None:
  done = subprocess.run(
    ['git', '-C', str(git_dir), 'archive', '--format=tar', OFFICIAL_COMMIT,
     'scoring'], capture_output=True, check=False, timeout=120)
  if done.returncode:
    raise ScoringError(
      f'git archive of {OFFICIAL_COMMIT} in {git_dir} failed: '
      f'{done.stderr.decode(errors="replace").strip()}. Fetch that commit '
      'there, or pass a checkout of it.')
  with tarfile.open(fileobj=io.BytesIO(done.stdout)) as archive:
    archive.extractall(into, filter='data')


def _check_pinned(root: pathlib.Path) -> None:
  changed = [name for name, blob in OFFICIAL_FILES.items()
             if not (root / name).is_file()
             or blob_id((root / name).read_bytes()) != blob]
  if changed:
    raise ScoringError(
      f'{", ".join(changed)} in {root} differ from the official commit '
      f'{OFFICIAL_COMMIT}. Check that commit out (git checkout '
      f'{OFFICIAL_COMMIT}) and pass its directory.')


@dataclasses.dataclass(frozen=True)
class OfficialRun:
  logs: str
  targets: str
  output_dir: str
  self_tuning: bool = False
  python: str = 'python3'  # An interpreter with the official dependencies.
  timeout_s: float = 1800


def command(run: OfficialRun) -> list[str]:
  flags = ['--submission_directory', os.path.abspath(run.logs),
           '--workload_targets', os.path.abspath(run.targets),
           '--compute_performance_profiles',
           '--output_dir', os.path.abspath(run.output_dir)]
  if run.self_tuning:
    flags.append('--self_tuning_ruleset')
  return [run.python, '-m', 'scoring.score_submissions', *flags]


def run(tree: str, official: OfficialRun) -> None:
  """Runs the official scorer from ``tree``; its outputs go to output_dir.

  Raises:
    ScoringError: it failed; names its error (the last lines it printed).
  """
  env = {**os.environ, 'PYTHONPATH': tree, 'MPLBACKEND': 'Agg'}
  try:
    done = subprocess.run(command(official), cwd=tree, env=env,
                          capture_output=True, text=True, check=False,
                          timeout=official.timeout_s)
  except (OSError, subprocess.TimeoutExpired) as e:
    raise ScoringError(f'The official scorer did not run: {e}. Pass '
                       '--python with an interpreter that has its '
                       'dependencies (pandas, numpy, absl-py, tabulate, '
                       'matplotlib).') from e
  if done.returncode:
    last = '\n'.join(done.stderr.strip().splitlines()[-3:])
    raise ScoringError(
      f'The official scorer failed (exit {done.returncode}) on '
      f'{official.logs}:\n{last}\n`python -m scoring.score_submissions` in '
      f'{tree} with: {" ".join(command(official)[3:])}')


@dataclasses.dataclass(frozen=True)
class Cell:
  submission: str
  column: str  # 'score' or a workload.
  official: float
  ours: float

  @property
  def same(self) -> bool:
    if math.isnan(self.official) or math.isnan(self.ours):
      return math.isnan(self.official) and math.isnan(self.ours)
    if math.isinf(self.official) or math.isinf(self.ours):
      return self.official == self.ours
    return abs(self.official - self.ours) <= TOLERANCE


def read_table(path: str) -> dict[str, dict[str, float]]:
  """A CSV keyed by its first column: row -> column -> value (NaN empty)."""
  try:
    with open(path, newline='') as f:
      header, *rows = list(csv.reader(f))
  except (OSError, ValueError) as e:
    raise ScoringError(f'Cannot read {path}: {e}.') from e
  return {row[0]: {name: float(v) if v else math.nan
                   for name, v in zip(header[1:], row[1:])} for row in rows}


def compare(result, official_dir: str) -> tuple[list[Cell], list[Cell]]:
  """(scores, time-to-target cells) of the official run and of ``result``.

  Rows and columns are the union of both sides; one side's missing cell
  is NaN.
  """
  theirs = read_table(os.path.join(official_dir, 'scores.csv'))
  scores = [Cell(s, 'score', theirs.get(s, {}).get('score', math.nan),
                 result.profile.scores.get(s, math.nan))
            for s in sorted(set(theirs) | set(result.profile.scores))]
  theirs = read_table(os.path.join(official_dir, 'time_to_targets.csv'))
  ours = result.times
  columns = sorted({c for row in theirs.values() for c in row}
                   | set(result.targets.scored_workloads(
                     result.rules == 'v0.5')))
  cells = [Cell(s, w, theirs.get(s, {}).get(w, math.nan),
                ours.get(s, {}).get(w, math.nan))
           for s in sorted(set(theirs) | set(ours)) for w in columns]
  return scores, cells
