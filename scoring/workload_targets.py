"""Targets, base workloads and held-out variants of one benchmark version.

Reads AlgoPerf's ``workload_targets`` JSON format::

  {"benchmark_version": "0.5",
   "base_workloads": ["criteo1tb", ...],
   "held_out_workloads": ["criteo1tb_embed_init", ...],
   "workloads": {"criteo1tb": {"target_metric_name": "loss",
                               "validation_target_value": 0.123735,
                               "step_hint": 10666}, ...}}

plus optional per-workload fields our own files add: ``metric_direction``
('min'/'max'; AlgoPerf's newer ``target_metric_goal`` 'minimize'/'maximize'
is read too), ``base_name`` and ``max_allowed_runtime_sec``. Without an
explicit direction, it is inferred from the metric name as AlgoPerf does.

The builtin names (``BUILTIN``) are the suites' facts in
``algoperf/suites/``, read through ``algoperf.registry`` (which imports
neither JAX nor any workload).
"""

import dataclasses
import difflib
import json
import re

from algoperf import registry
from scoring.errors import ScoringError

# --workload-targets builtins: name -> (suite, rules, benchmark version).
# The CPU suite scores by v0.6 rules unless told otherwise (no held-out
# variants: they are scored on their own).
BUILTIN = {
  'algoperf_v05': ('algoperf', 'v0.5', '0.5'),
  'cpu_suite': ('cpu', 'v0.6', None),
}

# AlgoPerf's metric-name registry: a metric containing one of these names is
# minimized / maximized. (Ours adds 'cer' and the perplexity spelling.)
_MINIMIZED = registry.ALGOPERF_MINIMIZED + ('cer', 'perplexity')
_MAXIMIZED = registry.ALGOPERF_MAXIMIZED
_DIRECTIONS = {'min': 'min', 'max': 'max', 'minimize': 'min',
               'maximize': 'max'}
_FRAMEWORK = re.compile(r'(.*)_(jax|pytorch)$')


def direction_from_metric_name(metric: str) -> str:
  """'min' or 'max' from the metric's name, as AlgoPerf guesses it."""
  for name in _MINIMIZED:
    if name in metric:
      return 'min'
  for name in _MAXIMIZED:
    if name in metric:
      return 'max'
  raise ScoringError(
    f'Cannot tell whether metric {metric!r} is minimized or maximized; add '
    '"metric_direction": "min" or "max" to its workload in the targets file.'
  )


def split_framework(dir_name: str) -> tuple[str, str]:
  """'imagenet_resnet_jax' -> ('imagenet_resnet', 'jax'); no suffix -> ''."""
  match = _FRAMEWORK.match(dir_name)
  if match:
    return match.group(1), match.group(2)
  return dir_name, ''


@dataclasses.dataclass(frozen=True)
class WorkloadTarget:
  name: str
  metric: str  # e.g. 'accuracy'; the log column is 'validation/<metric>'.
  direction: str  # 'min' or 'max'.
  validation_target: float
  step_hint: int | None = None
  max_allowed_runtime_sec: float | None = None
  base_name: str | None = None  # explicit base, when the file names it.

  @property
  def column(self) -> str:
    return f'validation/{self.metric}'

  def reached(self, value: float) -> bool:
    # AlgoPerf: `<=` for minimized metrics, `>=` for maximized; NaN never.
    if self.direction == 'min':
      return value <= self.validation_target
    return value >= self.validation_target


@dataclasses.dataclass(frozen=True)
class TargetsConfig:
  """One benchmark version's scoring inputs."""

  benchmark_version: str
  base_workloads: tuple[str, ...]
  held_out_workloads: tuple[str, ...]
  workloads: dict[str, WorkloadTarget]
  source: str = ''

  @property
  def version_label(self) -> str:
    """'v0.5' for AlgoPerf's numeric versions, else the name ('cpu-0.1')."""
    version = self.benchmark_version
    return f'v{version}' if version[:1].isdigit() else version

  def target(self, workload: str) -> WorkloadTarget:
    return self.workloads[split_framework(workload)[0]]

  def base_of(self, workload: str) -> str:
    """The base workload of a variant (itself for a base).

    Uses the file's explicit ``base_name`` when present, else AlgoPerf's
    rule: the first base workload whose name is contained in the name.
    """
    explicit = self.workloads.get(workload)
    if explicit is not None and explicit.base_name:
      return explicit.base_name
    for base in self.base_workloads:
      if base in workload:
        return base
    return workload

  def scored_workloads(self, use_held_out: bool) -> tuple[str, ...]:
    held_out = self.held_out_workloads if use_held_out else ()
    return tuple(self.base_workloads) + tuple(held_out)

  def closest(self, name: str) -> str:
    close = difflib.get_close_matches(name, self.workloads, n=1)
    return f' Did you mean {close[0]!r}?' if close else ''


def builtin_document(name: str) -> dict:
  """The targets of a builtin name, from the suites' facts."""
  suite, rules, version = BUILTIN[name]
  return registry.targets_document(suite, rules=rules,
                                   benchmark_version=version)


def load_targets(name_or_path: str) -> TargetsConfig:
  """Loads and validates a builtin's targets or a targets file.

  Raises:
    ScoringError: missing file, bad JSON, or missing fields; names the file.
  """
  if name_or_path in BUILTIN:
    return parse_targets(builtin_document(name_or_path),
                         f'builtin {name_or_path}')
  path = name_or_path
  try:
    with open(path) as f:
      raw = json.load(f)
  except FileNotFoundError:
    raise ScoringError(
      f'Targets file {path} not found. Pass --workload-targets with a path '
      f'to a workload_targets JSON file or one of: {", ".join(BUILTIN)}.'
    ) from None
  except json.JSONDecodeError as e:
    raise ScoringError(f'Targets file {path} is not valid JSON: {e}.') from e
  return parse_targets(raw, path)


def parse_targets(raw: dict, path: str) -> TargetsConfig:
  """A TargetsConfig from a workload_targets document read from ``path``.

  Raises:
    ScoringError: missing or bad fields; names ``path``.
  """
  try:
    workloads = {name: _parse_workload(name, spec)
                 for name, spec in raw['workloads'].items()}
    config = TargetsConfig(
      benchmark_version=str(raw['benchmark_version']),
      base_workloads=tuple(raw['base_workloads']),
      held_out_workloads=tuple(raw.get('held_out_workloads') or ()),
      workloads=workloads,
      source=path,
    )
  except (KeyError, TypeError, ValueError) as e:
    raise ScoringError(
      f'Malformed targets file {path}: missing or bad field {e}. Expected '
      "AlgoPerf's workload_targets format (benchmark_version, "
      'base_workloads, held_out_workloads, workloads).'
    ) from e
  missing = [w for w in config.scored_workloads(True)
             if w not in config.workloads]
  if missing:
    raise ScoringError(
      f'Targets file {path}: base/held-out workloads {missing} have no entry '
      'under "workloads"; add their targets.'
    )
  return config


def _parse_workload(name: str, spec: dict) -> WorkloadTarget:
  metric = spec['target_metric_name']
  given = spec.get('metric_direction') or spec.get('target_metric_goal')
  if given is not None and given not in _DIRECTIONS:
    raise ValueError(f'{name}.metric_direction={given!r} (use min or max)')
  direction = _DIRECTIONS[given] if given else direction_from_metric_name(
    f'validation/{metric}')
  runtime = spec.get('max_allowed_runtime_sec')
  return WorkloadTarget(
    name=name,
    metric=metric,
    direction=direction,
    validation_target=float(spec['validation_target_value']),
    step_hint=spec.get('step_hint'),
    max_allowed_runtime_sec=float(runtime) if runtime is not None else None,
    base_name=spec.get('base_name'),
  )
