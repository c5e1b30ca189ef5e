"""Targets files for scoring: ours in full, or AlgoPerf's three-key format.

AlgoPerf's scoring reads a ``workload_targets`` file whose workload entries
hold exactly ``target_metric_name``, ``validation_target_value`` and
``step_hint`` (``registry.ALGOPERF_TARGET_KEYS``), and guesses each metric's
direction from its name. Ours add keys (direction, test target, budget,
base name, ...). ``export`` writes either, from the suites' facts or from a
targets file (e.g. the one the leaderboard's trials ran against), and can
fit it to a logs directory: AlgoPerf's profile code raises ``KeyError`` for
a base or held-out workload that no submission logged, so a held-out variant
without logs is left out (under v0.5 rules a variant is only ever skipped
when its base's median is already infinite, so no score changes) and a base
without logs is refused.
"""

import dataclasses
import json
import pathlib
import re

from algoperf import records
from algoperf import registry
from algoperf.errors import AlgoperfError

FORMATS = ('algoperf', 'full')
_WORKLOAD_DIR = re.compile(r'(.+)_(jax|pytorch)$')


class TargetsExportError(AlgoperfError):
  """The asked-for targets cannot be written as asked."""


@dataclasses.dataclass(frozen=True)
class ExportRequest:
  """What `algoperf targets export` was asked for."""

  suite: str = registry.DEFAULT_SUITE
  rules: str | None = None  # None: v0.6 (no held-out variants).
  benchmark_version: str | None = None
  workloads: tuple[str, ...] | None = None  # base workloads; None: all.
  source: str | None = None  # a targets file instead of the suite's facts.
  logs: str | None = None  # fit to the workloads logged there.
  format: str = 'algoperf'


def export(request: ExportRequest) -> dict:
  """The targets document ``request`` asks for.

  Raises:
    TargetsExportError: unknown names, a base workload without logs, or a
      target AlgoPerf's scoring would read otherwise than we do.
  """
  if request.format not in FORMATS:
    raise TargetsExportError(f'Unknown format {request.format!r}; use one '
                             f'of {", ".join(FORMATS)}.')
  if request.source and (request.rules or request.benchmark_version):
    raise TargetsExportError(
      '--rules and --benchmark-version choose among the suite\'s facts; '
      f'{request.source} states its own held-out list and version. Drop '
      'them, or drop --from.')
  document = (read_document(request.source) if request.source
              else _from_suite(request))
  if request.workloads is not None:
    document = keep_bases(document, request.workloads,
                          request.source or f'suite {request.suite}')
  if request.logs is not None:
    document = fit_to_logs(document, request.logs)
  if request.format == 'full':
    return document
  return algoperf_document(document, request.source or
                           f'the {request.suite} suite\'s facts')


def read_document(path: str) -> dict:
  try:
    document = records.read_json(pathlib.Path(path))
  except FileNotFoundError:
    raise TargetsExportError(
      f'Targets file {path} not found. Pass a workload_targets JSON file '
      '(e.g. docs/leaderboard/workload_targets.json).') from None
  except (OSError, json.JSONDecodeError) as e:
    raise TargetsExportError(f'Cannot read targets file {path}: {e}.') from e
  missing = [k for k in ('benchmark_version', 'base_workloads', 'workloads')
             if k not in document]
  if missing:
    raise TargetsExportError(
      f'{path} lacks {", ".join(missing)}: expected AlgoPerf\'s '
      'workload_targets format (benchmark_version, base_workloads, '
      'held_out_workloads, workloads).')
  document.setdefault('held_out_workloads', [])
  return document


def _from_suite(request: ExportRequest) -> dict:
  suite = registry.suite(request.suite)
  if request.benchmark_version is not None:
    suite = suite.version(request.benchmark_version)
  if request.workloads is not None:
    _check_bases(request.workloads, suite.base_workloads,
                 f'suite {request.suite}')
  return registry.targets_document(
    request.suite, rules=request.rules or 'v0.6',
    workloads=list(request.workloads) if request.workloads else None,
    benchmark_version=request.benchmark_version)


def _check_bases(names, bases, where: str) -> None:
  unknown = [n for n in names if n not in bases]
  if unknown:
    raise TargetsExportError(
      f'--workloads takes base workloads of {where} ({", ".join(bases)}); '
      f'got {", ".join(unknown)}. A base brings its held-out variant under '
      'v0.5 rules.')


def _base_of(document: dict, variant: str) -> str:
  """The file's ``base_name``, else AlgoPerf's rule (a base it contains)."""
  entry = document['workloads'].get(variant, {})
  if entry.get('base_name'):
    return entry['base_name']
  return next((b for b in document['base_workloads'] if b in variant),
              variant)


def keep_bases(document: dict, bases, where: str) -> dict:
  """``document`` for ``bases`` only (and their held-out variants)."""
  _check_bases(bases, document['base_workloads'], where)
  held_out = [v for v in document['held_out_workloads']
              if _base_of(document, v) in bases]
  workloads = {n: e for n, e in document['workloads'].items()
               if _base_of(document, n) in bases}
  return {**document,
          'base_workloads': [b for b in document['base_workloads']
                             if b in bases],
          'held_out_workloads': held_out, 'workloads': workloads}


def logged_workloads(logs: str) -> set[str]:
  """Workloads with at least one trial's eval_measurements.csv in ``logs``.

  ``logs`` holds submissions, or is one submission's directory.
  """
  root = pathlib.Path(logs)
  if not root.is_dir():
    raise TargetsExportError(
      f'{logs} is not a directory. Pass the logs directory: '
      '<submission>/study_<k>/<workload>_<framework>/trial_<i>/.')
  pattern = 'study_*/*/trial_*/' + records.EVAL_MEASUREMENTS
  paths = list(root.glob(pattern)) or list(root.glob('*/' + pattern))
  names = set()
  for path in paths:
    match = _WORKLOAD_DIR.match(path.parent.parent.name)
    if match:
      names.add(match.group(1))
  return names


def fit_to_logs(document: dict, logs: str) -> dict:
  """Drops held-out variants without logs; refuses bases without any.

  Raises:
    TargetsExportError: a base workload no submission logged, or a logged
      workload the document has no target for (AlgoPerf's scoring raises
      ``KeyError`` on both).
  """
  logged = logged_workloads(logs)
  unlogged = [b for b in document['base_workloads'] if b not in logged]
  if unlogged:
    raise TargetsExportError(
      f'No submission in {logs} has logs of the base workload(s) '
      f'{", ".join(unlogged)}; AlgoPerf\'s scoring raises KeyError on them. '
      'Pass --workloads with the base workloads that ran.')
  unknown = sorted(logged - set(document['workloads']))
  if unknown:
    raise TargetsExportError(
      f'{logs} has logs of {", ".join(unknown)}, which the targets do not '
      'list; AlgoPerf\'s scoring raises KeyError on them. Export from a '
      'source that lists them, or move their logs aside.')
  return {**document, 'held_out_workloads': [
    v for v in document['held_out_workloads'] if v in logged]}


def algoperf_document(document: dict, source: str) -> dict:
  """``document`` in AlgoPerf's format: three keys per workload entry.

  Raises:
    TargetsExportError: an entry without a step hint, or whose metric name
      AlgoPerf's scoring reads as the other direction (or cannot read).
  """
  workloads = {}
  for name, entry in document['workloads'].items():
    _check_for_algoperf(name, entry, source)
    workloads[name] = {k: entry[k] for k in registry.ALGOPERF_TARGET_KEYS}
  return {
    '_comment': f'AlgoPerf workload_targets format, written by `algoperf '
    f'targets export` from {source}.',
    'benchmark_version': document['benchmark_version'],
    'base_workloads': list(document['base_workloads']),
    'held_out_workloads': list(document['held_out_workloads']),
    'workloads': workloads,
  }


def _check_for_algoperf(name: str, entry: dict, source: str) -> None:
  if entry.get('step_hint') is None:
    raise TargetsExportError(
      f'{name} in {source} has no step_hint, which AlgoPerf\'s format '
      'requires. Add one, or export --format full.')
  metric = entry['target_metric_name']
  read_as = registry.algoperf_metric_direction(metric)
  ours = entry.get('metric_direction') or read_as
  if read_as is not None and read_as == ours:
    return
  found = ('cannot tell whether it is minimized' if read_as is None
           else f'would {read_as}imize it')
  stated = f' is {ours}imized, but' if ours else ':'
  names = '/'.join(registry.ALGOPERF_MINIMIZED + registry.ALGOPERF_MAXIMIZED)
  raise TargetsExportError(
    f'{name} in {source}: metric {metric!r}{stated} AlgoPerf\'s scoring, '
    f'which goes by the name, {found}. Name the metric with one of {names}, '
    'or export --format full (for our scoring only).')


def write(document: dict, output: str | None) -> None:
  """To ``output`` (atomically), or to standard output when None/'-'."""
  text = json.dumps(document, indent=2) + '\n'
  if output in (None, '-'):
    print(text, end='')
    return
  records.write_atomic(pathlib.Path(output), text)
