"""Every workload by name: where its code is and what its facts are.

The one home of workload facts is ``algoperf/suites/<suite>.json`` (package
data). Each file describes one suite at its current benchmark version::

  {"suite": "cpu", "benchmark_version": "cpu-0.3", "description": "...",
   "base_workloads": ["mnist", ...],
   "held_out_workloads": ["mnist_relu", ...],     # the v0.5-rules draw
   "workloads": {
     "mnist": {"import": "workloads.mnist.workload:MnistWorkload",
               "target_metric_name": "accuracy", "metric_direction": "max",
               "validation_target_value": 0.9435, ...},
     "mnist_relu": {"import": "...", "base_name": "mnist",
                    "validation_target_value": 0.9528, ...}},
   "earlier_versions": {"0.5": {"held_out_workloads": [...],
                                "workloads": {"wmt": {"step_hint": ...}}}}}

A suite whose evals follow AlgoPerf's clock (``"eval_schedule": "time"``,
the AlgoPerf suite: every ``eval_period_time_sec`` of submission time)
needs no ``eval_every_steps``; the CPU suite's step schedule (the default,
``"steps"``) does. ``"test_evals"``: ``"every_eval"`` (AlgoPerf, the
default) or ``"from_validation_target"`` (the CPU suite: a trial reads its
test split once its validation target is met; ``runner.eval_plan``).

A variant states only what differs from its base (its targets, at least);
every other fact is its base's. ``import`` is an import string, not an
import: nothing here imports a workload until ``get_workload_class`` is
called, and this module imports neither JAX nor any workload, so scoring
can read facts without them. A workload without ``import`` has facts only
(AlgoPerf's published targets for a workload not implemented here).

The workload classes read their facts from here (``ArrayWorkload.facts``);
`algoperf workloads`, scoring and the target-setting protocol read them
from here too, and the protocol writes them back with ``update_facts``.
"""

import dataclasses
import difflib
import functools
import importlib
import json
import os
import pathlib

from algoperf.errors import WorkloadError

# The target-setting protocol drafts the next benchmark version in a
# folder of suite files of its own (algoperf/target_setting/draft.py) and
# names it in this variable, which every process it starts inherits (its
# trials read the draft's facts and record the draft's version).
DRAFT_SUITES_ENV = 'ALGOPERF_DRAFT_SUITES'
SUITES_DIR = pathlib.Path(
  os.environ.get(DRAFT_SUITES_ENV)
  or pathlib.Path(__file__).resolve().parent / 'suites')
DEFAULT_SUITE = 'cpu'
RULES = ('v0.5', 'v0.6')  # AlgoPerf rule versions scoring applies.
DIRECTIONS = ('min', 'max')


@dataclasses.dataclass(frozen=True)
class WorkloadFacts:
  """What a workload is held to: metric, targets, budget, schedule hints.

  Fields that are None are unknown (facts-only workloads of the AlgoPerf
  suite); a workload that can run here has every one of them.
  """

  name: str
  suite: str
  import_path: str | None
  base_name: str | None
  target_metric_name: str
  metric_direction: str  # 'min': lower is better; 'max': higher.
  validation_target_value: float
  test_target_value: float | None
  targets_are_provisional: bool
  max_allowed_runtime_sec: float | None
  eval_period_time_sec: float | None
  step_hint: int | None
  # Steps between evals (docs/design.md §6): a runnable workload's evals
  # fall on this step schedule, so a seed's eval steps, metrics and steps
  # to target are the same on every machine. None (facts-only workloads):
  # AlgoPerf's schedule, every eval_period_time_sec of submission time.
  eval_every_steps: int | None = None
  # Steps of every target-setting run of this workload (the CPU suite's
  # protocol); None where targets come from elsewhere.
  target_setting_horizon_steps: int | None = None
  # How finely the validation and test splits resolve the target metric
  # (a StandardError, measured by bootstrap: docs/targets.md); None where
  # not measured. Never inherited: a variant's metric differs from its base's.
  target_standard_error: 'StandardError | None' = None
  # What a scored run of this base spends compiling (share of its budget)
  # and evaluating (share of the run), from the protocol's seed reruns;
  # None where not measured. Never inherited: a variant's own differ.
  compile_share: float | None = None
  eval_share: float | None = None
  # How many validation and test examples a scored eval reads (the first
  # ones of the prepared split); None: the workload class's own number.
  # A benchmark version may grow a split to resolve its target.
  validation_examples: int | None = None
  test_examples: int | None = None

  @property
  def runnable(self) -> bool:
    return self.import_path is not None

  @property
  def family(self) -> str:
    """The base workload's name (its own for a base)."""
    return self.base_name or self.name

  def meets(self, value: float, target: float) -> bool:
    """Whether ``value`` is at or past ``target`` (NaN never is)."""
    if self.metric_direction == 'min':
      return value <= target
    return value >= target


@dataclasses.dataclass(frozen=True)
class StandardError:
  """The bootstrap standard error of the target metric at the target.

  ``validation``/``test``: in the metric's units (``relative`` False:
  accuracy, SSIM, WER) or as a fraction of the metric (``relative`` True:
  losses). ``*_examples``: the split sizes it was measured on; ``metric``:
  the validation metric of the model it was measured on.
  """

  validation: float
  test: float
  validation_examples: int
  test_examples: int
  relative: bool
  metric: float

  @classmethod
  def from_entry(cls, where: str, entry) -> 'StandardError':
    fields = [f.name for f in dataclasses.fields(cls)]
    if not isinstance(entry, dict) or set(entry) != set(fields):
      raise WorkloadError(
        f'{where}.target_standard_error must be an object with exactly '
        f'{", ".join(fields)}; rewrite it with '
        '`scripts/target_resolution.py apply`.')
    return cls(**entry)


# Facts that belong to one workload entry alone (a variant never inherits).
NOT_INHERITED = ('target_standard_error', 'compile_share', 'eval_share')
# Facts a workload's file entry may give; a variant inherits the others.
FACT_FIELDS = tuple(f.name for f in dataclasses.fields(WorkloadFacts)
                    if f.name not in ('name', 'suite', 'import_path',
                                      'base_name'))
# Every runnable workload states these (or inherits them from its base).
REQUIRED_TO_RUN = ('target_metric_name', 'metric_direction',
                   'validation_target_value', 'test_target_value',
                   'targets_are_provisional', 'max_allowed_runtime_sec',
                   'eval_period_time_sec', 'eval_every_steps', 'step_hint')
# How a suite's evals are scheduled (docs/design.md §6).
EVAL_SCHEDULES = ('steps', 'time')
# When a suite's evals read the test split (docs/design.md §6): at every
# eval (AlgoPerf), or from the first eval that meets the validation target
# on (the CPU suite, whose resolving test splits are half of an eval).
TEST_EVERY_EVAL = 'every_eval'
TEST_FROM_VALIDATION_TARGET = 'from_validation_target'
TEST_EVALS = (TEST_EVERY_EVAL, TEST_FROM_VALIDATION_TARGET)
_ENTRY_KEYS = frozenset(('import', 'base_name') + FACT_FIELDS)


@dataclasses.dataclass(frozen=True)
class Suite:
  """One suite at one benchmark version."""

  name: str
  benchmark_version: str
  description: str
  base_workloads: tuple
  held_out_workloads: tuple  # One variant per base, applied by v0.5 rules.
  workloads: dict  # name -> WorkloadFacts, in the file's order.
  path: pathlib.Path
  earlier_versions: tuple = ()  # Benchmark versions ``version()`` knows.
  eval_schedule: str = 'steps'  # Or 'time': AlgoPerf's eval_period_time_sec.
  test_evals: str = TEST_EVERY_EVAL  # Or TEST_FROM_VALIDATION_TARGET.

  def held_out_variant(self, base: str) -> str:
    for name in self.held_out_workloads:
      if self.workloads[name].base_name == base:
        return name
    raise WorkloadError(f'{self.path}: base workload {base!r} has no '
                        'held-out variant in "held_out_workloads".')

  @property
  def families(self) -> tuple:
    """Every base workload in the file, scored or not.

    A family whose targets are still provisional is registered and runnable
    but not yet in ``base_workloads`` (the scored set).
    """
    return tuple(n for n, f in self.workloads.items() if f.base_name is None)

  def variants(self, base: str) -> list:
    return [n for n, f in self.workloads.items() if f.base_name == base]

  def version(self, benchmark_version: str) -> 'Suite':
    """This suite at ``benchmark_version`` (current or an earlier one)."""
    if benchmark_version == self.benchmark_version:
      return self
    raw = _read(self.path)
    earlier = raw.get('earlier_versions', {})
    if benchmark_version not in earlier:
      known = ', '.join([self.benchmark_version, *earlier])
      raise WorkloadError(
        f'Suite {self.name!r} has no benchmark version '
        f'{benchmark_version!r}; known: {known}.')
    return _parse(_at_version(raw, benchmark_version), self.path)


def _read(path: pathlib.Path) -> dict:
  try:
    with open(path) as f:
      return json.load(f)
  except (OSError, json.JSONDecodeError) as e:
    raise WorkloadError(f'Cannot read the suite file {path}: {e}. Restore '
                        'it from the repository.') from e


def _at_version(raw: dict, benchmark_version: str) -> dict:
  """``raw`` with an earlier version's overrides applied."""
  changes = raw['earlier_versions'][benchmark_version]
  workloads = {name: dict(entry) for name, entry in raw['workloads'].items()}
  for name, entry in changes.get('workloads', {}).items():
    workloads.setdefault(name, {}).update(entry)
  at_version = dict(raw)
  at_version.update({k: v for k, v in changes.items() if k != 'workloads'})
  at_version.update(benchmark_version=benchmark_version, workloads=workloads,
                    earlier_versions={})
  return at_version


def _parse(raw: dict, path: pathlib.Path) -> Suite:
  """Validates one suite file and resolves each variant's inherited facts.

  Raises:
    WorkloadError: a missing or unknown field, naming the file and entry.
  """
  name = raw.get('suite')
  entries = raw.get('workloads')
  if not isinstance(name, str) or not isinstance(entries, dict):
    raise WorkloadError(f'{path}: needs "suite" (a name) and "workloads" '
                        '(an object of workload entries).')
  schedule = raw.get('eval_schedule', 'steps')
  if schedule not in EVAL_SCHEDULES:
    raise WorkloadError(f'{path}: "eval_schedule" is {schedule!r}; use one '
                        f'of {", ".join(EVAL_SCHEDULES)}.')
  test_evals = raw.get('test_evals', TEST_EVERY_EVAL)
  if test_evals not in TEST_EVALS:
    raise WorkloadError(f'{path}: "test_evals" is {test_evals!r}; use one '
                        f'of {", ".join(TEST_EVALS)}.')
  workloads = {}
  for workload, entry in entries.items():
    unknown = set(entry) - _ENTRY_KEYS
    if unknown:
      raise WorkloadError(
        f'{path}: workloads.{workload} has unknown field(s) '
        f'{sorted(unknown)}; known: {sorted(_ENTRY_KEYS)}.')
    base = entry.get('base_name')
    if base is not None and (base not in entries
                             or entries[base].get('base_name')):
      raise WorkloadError(f'{path}: workloads.{workload}.base_name {base!r} '
                          'is not a base workload of this suite.')
    inherited = {k: v for k, v in entries.get(base, {}).items()
                 if k in FACT_FIELDS and k not in NOT_INHERITED}
    facts = {k: None for k in FACT_FIELDS}
    facts.update(inherited)
    facts.update({k: v for k, v in entry.items() if k in FACT_FIELDS})
    facts['targets_are_provisional'] = bool(facts['targets_are_provisional'])
    if facts['target_standard_error'] is not None:
      facts['target_standard_error'] = StandardError.from_entry(
        f'{path}: workloads.{workload}', facts['target_standard_error'])
    workloads[workload] = WorkloadFacts(
      name=workload, suite=name, import_path=entry.get('import'),
      base_name=base, **facts)
    _check_facts(path, workloads[workload], schedule)
  bases = tuple(raw.get('base_workloads', ()))
  held_out = tuple(raw.get('held_out_workloads', ()))
  for listed, what in ((bases, 'base_workloads'),
                       (held_out, 'held_out_workloads')):
    missing = [w for w in listed if w not in workloads]
    if missing:
      raise WorkloadError(f'{path}: {what} names {missing}, which have no '
                          'entry under "workloads".')
  return Suite(name=name, benchmark_version=str(raw['benchmark_version']),
               description=raw.get('description', ''), base_workloads=bases,
               held_out_workloads=held_out, workloads=workloads, path=path,
               earlier_versions=tuple(raw.get('earlier_versions', {})),
               eval_schedule=schedule, test_evals=test_evals)


def _check_facts(path, facts: WorkloadFacts, schedule: str) -> None:
  where = f'{path}: workloads.{facts.name}'
  if facts.metric_direction not in DIRECTIONS:
    raise WorkloadError(f'{where}.metric_direction is '
                        f'{facts.metric_direction!r}; use "min" or "max".')
  if facts.target_metric_name is None or (
      facts.validation_target_value is None):
    raise WorkloadError(f'{where} needs target_metric_name and '
                        'validation_target_value (or a base_name to inherit '
                        'them from).')
  for split in ('validation_examples', 'test_examples'):
    value = getattr(facts, split)
    if value is not None and (not isinstance(value, int)
                              or isinstance(value, bool) or value < 1):
      raise WorkloadError(f'{where}.{split} is {value!r}; use a positive '
                          'whole number of examples (or leave it out).')
  if facts.runnable:
    required = [k for k in REQUIRED_TO_RUN
                if not (k == 'eval_every_steps' and schedule == 'time')]
    missing = [k for k in required if getattr(facts, k) is None]
    if missing:
      raise WorkloadError(
        f'{where} has an "import" but no {", ".join(missing)}: a workload '
        'that runs needs every fact. Add them (a variant inherits what it '
        'omits from its base_name).')


@functools.cache
def suites() -> dict:
  """Every suite shipped in ``algoperf/suites/``, by name."""
  found = {}
  for path in sorted(SUITES_DIR.glob('*.json')):
    suite = _parse(_read(path), path)
    found[suite.name] = suite
  return found


def suite(name: str = DEFAULT_SUITE) -> Suite:
  known = suites()
  if name not in known:
    raise WorkloadError(f'Unknown suite {name!r}; known: '
                        f'{", ".join(sorted(known))}.')
  return known[name]


def _all_facts() -> dict:
  found = {}
  for s in suites().values():
    found.update(s.workloads)
  return found


def names(suite_name: str | None = None) -> list:
  """Runnable workload names (of one suite, or of every suite)."""
  chosen = [suite(suite_name)] if suite_name else suites().values()
  return [n for s in chosen for n, f in s.workloads.items() if f.runnable]


def facts(name: str) -> WorkloadFacts:
  """The facts of workload ``name``.

  Raises:
    WorkloadError: unknown name; lists the valid ones and the closest match.
  """
  found = _all_facts()
  if name not in found:
    close = difflib.get_close_matches(name, found, n=1)
    hint = f' Did you mean {close[0]!r}?' if close else ''
    raise WorkloadError(
      f'Unknown workload {name!r}.{hint} Valid names: '
      f'{", ".join(names())}. `algoperf workloads` lists them.')
  return found[name]


def suite_of(name: str) -> Suite:
  return suite(facts(name).suite)


def get_workload_class(name: str):
  """Imports and returns the workload class registered under ``name``.

  Raises:
    WorkloadError: unknown name, or a facts-only workload.
  """
  workload_facts = facts(name)
  if not workload_facts.runnable:
    raise WorkloadError(
      f'Workload {name!r} of suite {workload_facts.suite!r} has published '
      'facts (for scoring) but no implementation here; runnable: '
      f'{", ".join(names())}.')
  module_name, class_name = workload_facts.import_path.split(':')
  try:
    module = importlib.import_module(module_name)
  except ModuleNotFoundError as e:
    if e.name is None or not module_name.startswith(e.name):
      raise  # A dependency of the module is missing: its own message.
    raise WorkloadError(
      f'Workload {name!r} is registered in {suite_of(name).path.name} as '
      f'{workload_facts.import_path!r}, but {module_name} does not exist in '
      'this installation.') from None
  if not hasattr(module, class_name):
    raise WorkloadError(f'{module_name} has no class {class_name!r}, which '
                        f'{suite_of(name).path.name} names for {name!r}.')
  return getattr(module, class_name)


def make_workload(name: str, **fact_changes):
  """A new workload instance; ``fact_changes`` replace some of its facts.

  ``make_workload('mnist', eval_every_steps=1)`` evaluates after every
  step: for tests and measurements, never for a scored run.
  """
  workload = get_workload_class(name)()
  if fact_changes:
    workload.override_facts(**fact_changes)
  return workload


def targets_document(suite_name: str = DEFAULT_SUITE, rules: str = 'v0.6',
                     workloads: list | None = None,
                     benchmark_version: str | None = None) -> dict:
  """A suite's targets in AlgoPerf's workload_targets format (+ our keys).

  Under v0.6 rules there are no held-out workloads; under v0.5 the suite's
  held-out draw is listed. ``workloads`` restricts it to some bases (each
  with its held-out variant under v0.5).
  """
  if rules not in RULES:
    raise WorkloadError(f'Unknown rules {rules!r}; use one of '
                        f'{", ".join(RULES)}.')
  s = suite(suite_name)
  if benchmark_version is not None:
    s = s.version(benchmark_version)
  if workloads is None:
    bases, chosen = list(s.base_workloads), list(s.workloads)
    held_out = list(s.held_out_workloads)
  else:
    bases = list(workloads)
    held_out = [s.held_out_variant(b) for b in bases]
    chosen = bases + held_out
  if rules == 'v0.6':
    held_out = []
  return {
    'benchmark_version': s.benchmark_version,
    'base_workloads': bases,
    'held_out_workloads': held_out,
    'workloads': {n: _target_entry(s.workloads[n]) for n in chosen},
  }


def _target_entry(workload_facts: WorkloadFacts) -> dict:
  entry = {
    'target_metric_name': workload_facts.target_metric_name,
    'metric_direction': workload_facts.metric_direction,
    'validation_target_value': workload_facts.validation_target_value,
    'test_target_value': workload_facts.test_target_value,
    'step_hint': workload_facts.step_hint,
    'max_allowed_runtime_sec': workload_facts.max_allowed_runtime_sec,
  }
  entry = {k: v for k, v in entry.items() if v is not None}
  if workload_facts.base_name:
    entry['base_name'] = workload_facts.base_name
  return entry


# AlgoPerf's scoring (scoring/config.py) builds each workload's target from
# exactly these keys, ``WorkloadTarget(**entry)``: any other key raises.
ALGOPERF_TARGET_KEYS = ('target_metric_name', 'validation_target_value',
                        'step_hint')
# It tells minimized from maximized metrics by name alone
# (performance_profile.check_if_minimized on 'validation/<metric>').
ALGOPERF_MINIMIZED = ('ce_loss', 'error_rate', 'ctc_loss', 'wer', 'l1_loss',
                      'loss', 'ppl')
ALGOPERF_MAXIMIZED = ('mean_average_precision', 'ssim', 'accuracy', 'bleu')


def algoperf_metric_direction(metric: str) -> str | None:
  """'min' or 'max' as AlgoPerf's scoring reads ``metric``; None: it cannot."""
  column = f'validation/{metric}'
  for names, direction in ((ALGOPERF_MINIMIZED, 'min'),
                           (ALGOPERF_MAXIMIZED, 'max')):
    if any(f'validation/{name}' in column for name in names):
      return direction
  return None


def update_facts(suite_name: str, changes: dict) -> pathlib.Path:
  """Writes ``{workload: {fact: value}}`` into the suite's file.

  Only the target-setting protocol calls this. Values equal to what a
  variant inherits from its base are not written; the file keeps its order
  and layout, so an unchanged fact leaves it byte-identical.
  """
  path = suite(suite_name).path
  raw = _read(path)
  _check_changes(path, raw, changes)
  for name, values in changes.items():
    raw['workloads'][name].update(values)
  return _write(path, raw)


def _check_changes(path: pathlib.Path, raw: dict, changes: dict) -> None:
  for name, values in changes.items():
    if name not in raw['workloads']:
      raise WorkloadError(f'{path}: no workload {name!r} to update.')
    unknown = set(values) - set(FACT_FIELDS)
    if unknown:
      raise WorkloadError(f'{sorted(unknown)} are not facts; known: '
                          f'{", ".join(FACT_FIELDS)}.')


def _write(path: pathlib.Path, raw: dict) -> pathlib.Path:
  """Writes the suite file atomically, never one that does not load."""
  _parse(raw, path)
  tmp = path.with_suffix('.json.tmp')
  tmp.write_text(format_suite(raw))
  tmp.replace(path)
  suites.cache_clear()
  return path


def stated_facts(suite_name: str) -> dict:
  """{workload: the facts its suite-file entry states itself} (a variant
  inherits the others from its base)."""
  entries = _read(suite(suite_name).path)['workloads']
  return {name: frozenset(k for k in entry if k in FACT_FIELDS)
          for name, entry in entries.items()}


def start_version(suite_name: str, benchmark_version: str,
                  base_workloads: list, held_out_workloads: list,
                  changes: dict, inherit: dict | None = None) -> pathlib.Path:
  """Makes ``benchmark_version`` the suite's current version.

  The version it replaces becomes an earlier version whose view is exactly
  the suite as it was: for every fact ``changes`` sets (``{workload: {fact:
  value}}``), the old value (as the workload resolved it, inherited or
  not) is kept as that version's override, and so is it for every older
  version that did not override that fact already; likewise the lists of
  base and held-out workloads. Scoring reads a log's facts at the version
  the log records (``Suite.version``), so no earlier score changes.
  ``inherit`` (``{variant: [fact, ...]}``): facts a variant's entry states
  that the new version drops, so that it inherits its base's (kept, as
  ``changes`` are, for the earlier versions).

  Only the target-setting protocol calls this (``scripts/set_targets.py
  table --apply --protocol NEXT``).
  """
  current = suite(suite_name)
  path = current.path
  raw = _read(path)
  old = str(raw['benchmark_version'])
  if benchmark_version == old or benchmark_version in raw.get(
      'earlier_versions', {}):
    raise WorkloadError(f'{path}: benchmark version {benchmark_version!r} '
                        'exists already; a new version needs a new name.')
  _check_changes(path, raw, changes)
  inherit = inherit or {}
  for name, facts in inherit.items():
    if raw['workloads'].get(name, {}).get('base_name') is None:
      raise WorkloadError(f'{path}: {name!r} is not a variant; only a '
                          'variant inherits facts.')
    _check_changes(path, raw, {name: dict.fromkeys(facts)})
  earlier = raw.setdefault('earlier_versions', {})
  kept = {'base_workloads': list(current.base_workloads),
          'held_out_workloads': list(current.held_out_workloads)}
  # The replaced version is added last: the newest earlier version.
  for overrides in [*earlier.values(), earlier.setdefault(old, {})]:
    for key, value in kept.items():
      overrides.setdefault(key, value)
    for name, facts in [*changes.items(), *inherit.items()]:
      entry = overrides.setdefault('workloads', {}).setdefault(name, {})
      for fact in facts:
        entry.setdefault(fact, _fact_value(current.workloads[name], fact))
  raw.update(benchmark_version=benchmark_version,
             base_workloads=list(base_workloads),
             held_out_workloads=list(held_out_workloads))
  for name, values in changes.items():
    raw['workloads'][name].update(values)
  for name, facts in inherit.items():
    for fact in facts:
      raw['workloads'][name].pop(fact, None)
  # The keys in the file's order: earlier_versions stays last.
  raw['earlier_versions'] = raw.pop('earlier_versions')
  _parse(_at_version(raw, old), path)
  return _write(path, raw)


def _fact_value(workload_facts: WorkloadFacts, fact: str):
  """A fact as the suite file writes it (a StandardError as its object)."""
  value = getattr(workload_facts, fact)
  if isinstance(value, StandardError):
    return dataclasses.asdict(value)
  return value


def format_suite(raw: dict) -> str:
  """The suite file's text: what ``update_facts`` writes."""
  return json.dumps(raw, indent=2) + '\n'
