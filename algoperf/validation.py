"""Check a submission directory before spending hardware time on it.

``validate(directory, ruleset)`` runs, in order:

1. folder checks here (no JAX): submission.py present; for external tuning
   a valid tuning_search_space.json; requirements.txt parseable and
   installed; submission_info.yml fields (the file itself is optional until
   results are handed in, so its absence is a note, not a problem);
2. source rules (``submission_rules``): branching on the workload's
   identity, reading evaluation data;
3. a subprocess (``validation_worker``) with a time limit that imports the
   module, checks signatures and trains a few steps of every CPU-suite
   workload on tiny synthetic data, on 8 simulated devices.

Each problem names the file, the function, what was expected and what was
found; warnings (a report still passes) name what is allowed but costs
submission time, such as compilations after the first steps. Many
submissions can share one subprocess (``validate_many``); a submission that
hangs or crashes it is reported and the rest go on in a fresh one.

XLA's simulated CPU devices run collectives in a rendezvous of one thread
per device; on a small machine, ops dispatched outside jit can leave a
rendezvous short of threads until XLA aborts the process. That is a limit of
the simulation, not of the submission, so such a submission is checked again
on this machine's own devices, as ``algoperf run`` trains it, and judged by
that run; the report says so in a warning.
"""

import dataclasses
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import tempfile
import time

from algoperf import submission_rules

SEARCH_SPACE = 'tuning_search_space.json'
REQUIREMENTS = 'requirements.txt'
SUBMISSION_INFO = 'submission_info.yml'
INFO_FIELDS = ('submission_name', 'authors', 'affiliations', 'ruleset',
               'framework', 'description')
# submission_info.yml's ruleset as this harness names it and as AlgoPerf's
# published submissions write it.
RULESETS = {'external': 'external', 'external-tuning': 'external',
            'external_tuning': 'external', 'self': 'self',
            'self-tuning': 'self', 'self_tuning': 'self'}
SIMULATED_DEVICES = 8
# Generous: a first compilation on a busy 2-core machine can take minutes.
DEFAULT_TIMEOUT_S = 1200.0  # Per submission.
DEFAULT_CALL_TIMEOUT_S = 300.0
_POLL_S = 0.25  # Seconds between reads of the worker's progress file.
# How XLA reports a rendezvous of its CPU collectives that never completed.
_COLLECTIVE_TIMEOUT = re.compile(
  r'Termination timeout for `(?P<op>[a-z -]+?) RendezvousKey.*?Expected '
  r'(?P<expected>\d+) threads to join the rendezvous, but only '
  r'(?P<arrived>\d+) of them arrived')


@dataclasses.dataclass
class Report:
  directory: pathlib.Path
  problems: list
  notes: list
  warnings: list = dataclasses.field(default_factory=list)

  @property
  def ok(self) -> bool:
    return not self.problems

  def format(self) -> str:
    lines = [f'note: {n}' for n in self.notes]
    lines += [f'WARNING: {w}' for w in self.warnings]
    if self.ok:
      lines.append(f'SUCCESS: {self.directory} passed every check.')
    else:
      lines.append(f'FAILED: {self.directory} has {len(self.problems)} '
                   f'problem{"s" if len(self.problems) > 1 else ""}:')
      lines += [f'  {i}. {p}' for i, p in enumerate(self.problems, 1)]
    return '\n'.join(lines)


def _directory(path) -> pathlib.Path:
  path = pathlib.Path(path).expanduser().resolve()
  return path.parent if path.name == 'submission.py' else path


def submission_file(path) -> str:
  """The submission.py the worker checks for ``path`` (as it names it)."""
  return str(_directory(path) / 'submission.py')


def folder_checks(directory: pathlib.Path, ruleset: str):
  """(problems, notes) about the files next to submission.py."""
  problems, notes = [], []
  if not (directory / 'submission.py').is_file():
    return [f'{directory}: no submission.py. A submission is a directory '
            'holding submission.py; `algoperf new NAME` creates one.'], []
  space = directory / SEARCH_SPACE
  if ruleset == 'external':
    problems += _search_space_problems(space)
  elif space.exists():
    notes.append(f'{space} is ignored under --ruleset self.')
  found, mismatched = _requirements_problems(directory / REQUIREMENTS)
  problems += found
  notes += mismatched
  info = directory / SUBMISSION_INFO
  if info.exists():
    found, empty = _info_problems(info, ruleset)
    problems += found
    notes += empty
  else:
    notes.append(f'no {SUBMISSION_INFO} in {directory}; add one (fields '
                 f'{", ".join(INFO_FIELDS)}) before handing in results; '
                 '`algoperf new NAME` writes an example.')
  return problems, notes


def _search_space_problems(path: pathlib.Path) -> list:
  from algoperf import tuning
  from algoperf.errors import SearchSpaceError

  if not path.exists():
    return [f'{path}: missing. External tuning needs a search space '
            '(`algoperf new NAME` writes an example), or '
            'validate with --ruleset self.']
  try:
    tuning.load_search_space(path)
  except SearchSpaceError as e:
    return [str(e)]
  return []


def _requirements_problems(path: pathlib.Path) -> tuple[list, list]:
  """(problems, notes): a package missing is a problem (the import fails);
  another version than the one pinned is a note, since the checks then run
  with the installed one, as `algoperf run` would.
  """
  import importlib.metadata as md

  from packaging.requirements import InvalidRequirement
  from packaging.requirements import Requirement

  if not path.exists():
    return [], []
  problems, notes = [], []
  for number, line in enumerate(path.read_text().splitlines(), 1):
    line = line.split('#', 1)[0].strip()
    if not line:
      continue
    where = f'{path}:{number}'
    try:
      requirement = Requirement(line)
    except InvalidRequirement as e:
      problems.append(f'{where}: {line!r} is not a requirement ({e}); write '
                      'one package per line, e.g. "optax>=0.2".')
      continue
    try:
      installed = md.version(requirement.name)
    except md.PackageNotFoundError:
      problems.append(f'{where}: {requirement.name} is not installed; run '
                      f'pip install -r {path} (Docker: build an image FROM '
                      'the harness image that installs it).')
      continue
    if requirement.specifier and not requirement.specifier.contains(
        installed, prereleases=True):
      notes.append(f'{where}: names {line}, found {requirement.name} '
                   f'{installed} installed; the checks ran with '
                   f'{installed}. To check the version named, run pip '
                   f'install -r {path} first.')
  return problems, notes


def _info_problems(path: pathlib.Path, ruleset: str) -> tuple[list, list]:
  """(problems, notes): a field missing is a problem; a field present but
  empty, as AlgoPerf's published baselines leave their authors, a note.
  """
  import yaml

  try:
    info = yaml.safe_load(path.read_text())
  except yaml.YAMLError as e:
    return [f'{path}: not valid YAML ({e}).'], []
  if not isinstance(info, dict):
    return [f'{path}: expected a mapping of fields, found '
            f'{type(info).__name__}.'], []
  problems = [f'{path}: missing field {field!r}.'
              for field in INFO_FIELDS if field not in info]
  notes = [f'{path}: field {field!r} is empty; fill it in before handing '
           'in results.'
           for field in INFO_FIELDS if field in info and not info[field]]
  stated = RULESETS.get(str(info.get('ruleset')).lower())
  if info.get('ruleset') and stated is None:
    problems.append(f'{path}: ruleset is {info["ruleset"]!r}; expected '
                    '"external" or "self" (AlgoPerf\'s "external-tuning" '
                    'and "self-tuning" also do).')
  elif stated and stated != ruleset:
    problems.append(f'{path}: ruleset is {info["ruleset"]!r} but the '
                    f'validation ran with --ruleset {ruleset}; make them '
                    'agree.')
  if info.get('framework') and str(info['framework']).lower() != 'jax':
    problems.append(f'{path}: framework is {info["framework"]!r}; this '
                    'harness runs JAX submissions only ("JAX").')
  return problems, notes


def validate(path, ruleset: str = 'external', **kwargs) -> Report:
  """Validates one submission directory (or its submission.py)."""
  return validate_many([path], ruleset, **kwargs)[0]


def validate_many(paths, ruleset: str = 'external', workloads=None,
                  timeout_s: float = DEFAULT_TIMEOUT_S,
                  call_timeout_s: float = DEFAULT_CALL_TIMEOUT_S,
                  watch=None) -> list:
  """One Report per path, in order; their runtime checks share processes.
  ``watch``: a validation_progress.ValidationWatch showing the checks."""
  if workloads is None:
    from algoperf import registry

    workloads = list(registry.suite().base_workloads)
  reports = []
  for path in paths:
    directory = _directory(path)
    problems, notes = folder_checks(directory, ruleset)
    if (directory / 'submission.py').is_file():
      problems += submission_rules.check_source(directory / 'submission.py')
    reports.append(Report(directory, problems, notes))
  runnable = [r for r in reports if (r.directory / 'submission.py').is_file()]
  runtime = run_worker([r.directory / 'submission.py' for r in runnable],
                       ruleset, workloads, timeout_s, call_timeout_s, watch)
  for report in runnable:
    outcome = runtime[str(report.directory / 'submission.py')]
    for problem in outcome.problems:
      if problem not in report.problems:
        report.problems.append(problem)
    report.warnings += outcome.warnings
  return reports


@dataclasses.dataclass(frozen=True)
class WorkerOutcome:
  """What the worker found about one submission."""

  problems: list
  warnings: list


@dataclasses.dataclass(frozen=True)
class _Launch:
  """How to start the worker: ruleset, workloads, limits, devices."""

  ruleset: str
  workloads: list
  timeout_s: float
  call_timeout_s: float
  simulated_devices: int | None = SIMULATED_DEVICES  # None: the real ones.
  watch: object = None  # validation_progress.ValidationWatch, or None.


def run_worker(paths, ruleset, workloads, timeout_s,
               call_timeout_s, watch=None) -> dict:
  """{str(path): WorkerOutcome}; restarts the worker after a crash."""
  launch = _Launch(ruleset, workloads, timeout_s, call_timeout_s,
                   watch=watch)
  results, pending = {}, [str(p) for p in paths]
  while pending:
    returncode, output, found = _run(pending, launch)
    results.update(found)
    if pending[0] not in results:  # The worker died on this submission.
      results[pending[0]] = _after_death(pending[0], returncode, output,
                                         launch)
    pending = [p for p in pending if p not in results]
  return results


def _run(pending, launch: _Launch):
  """(returncode, output, {path: WorkerOutcome}) of one worker process."""
  with tempfile.TemporaryDirectory(prefix='algoperf-validate-') as scratch:
    report = os.path.join(scratch, 'report.jsonl')
    returncode, output = _launch(pending, report, scratch, launch)
    return returncode, output, _read_report(report)


def _after_death(path, returncode, output, launch: _Launch) -> WorkerOutcome:
  """The outcome for a submission whose worker died while checking it."""
  deadlock = _COLLECTIVE_TIMEOUT.search(output)
  if deadlock is None or launch.simulated_devices is None:
    return WorkerOutcome(
      [_death_message(path, returncode, output, launch.timeout_s)], [])
  real = dataclasses.replace(launch, simulated_devices=None)
  returncode, output, found = _run([path], real)
  outcome = found.get(path) or WorkerOutcome(
    [_death_message(path, returncode, output, launch.timeout_s)], [])
  judged = ('passed' if not outcome.problems else
            'found the problems listed')
  warning = (
    f'{path}: on {launch.simulated_devices} simulated CPU devices, XLA '
    f'aborted the check: its {deadlock["op"]} collective waited for '
    f'{deadlock["expected"]} device threads and only '
    f'{deadlock["arrived"]} arrived (a rendezvous starved of threads on '
    'this small CPU, typically by ops dispatched outside jit). That is a '
    "limit of the simulated devices, not the submission's: the same checks "
    "on this machine's own devices, as `algoperf run` trains it, "
    f'{judged}.')
  return WorkerOutcome(outcome.problems, [warning, *outcome.warnings])


def _launch(pending, report, scratch, launch: _Launch):
  tmpdir = os.path.join(scratch, 'tmp')
  os.makedirs(tmpdir, exist_ok=True)
  env = dict(os.environ, TMPDIR=tmpdir, JAX_PLATFORMS='cpu')
  devices = []
  if launch.simulated_devices:
    env['XLA_FLAGS'] = (
      os.environ.get('XLA_FLAGS', '') + ' --xla_force_host_platform_device_'
      f'count={launch.simulated_devices}').strip()
  else:  # Still hold get_batch_size to the benchmark's device count.
    devices = ['--batch-size-devices', str(SIMULATED_DEVICES)]
  progress = os.path.join(scratch, 'progress.jsonl')
  command = [sys.executable, '-m', 'algoperf.validation_worker',
             '--report', report, '--ruleset', launch.ruleset,
             '--workloads', ','.join(launch.workloads),
             '--call-timeout', str(launch.call_timeout_s),
             '--progress', progress, *devices, *pending]
  if launch.watch is not None:
    launch.watch.starting(pending, progress)
  # Output to a file, not a pipe: the wait below polls the progress file
  # and nothing has to drain a pipe meanwhile.
  output_path = os.path.join(scratch, 'output.log')
  with open(output_path, 'w') as output:
    process = subprocess.Popen(
      command, env=env, stdout=output, stderr=subprocess.STDOUT, text=True,
      start_new_session=True, cwd=scratch)
    returncode = _wait(process, launch, progress,
                       launch.timeout_s * len(pending))
  with open(output_path, errors='replace') as output:
    return returncode, output.read()


def _wait(process, launch: _Launch, progress: str, timeout_s: float):
  """The worker's exit status; None when it ran past ``timeout_s``."""
  deadline = time.monotonic() + timeout_s
  while True:
    try:
      returncode = process.wait(timeout=_POLL_S)
      break
    except subprocess.TimeoutExpired:
      if time.monotonic() > deadline:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        returncode = None
        break
    finally:
      if launch.watch is not None:
        launch.watch.poll(progress)
  return returncode


def _read_report(report: str) -> dict:
  if not os.path.exists(report):
    return {}
  results = {}
  with open(report) as f:
    for line in f:
      try:
        entry = json.loads(line)
      except json.JSONDecodeError:
        continue  # A line cut short by a killed worker.
      results[entry['submission']] = WorkerOutcome(
        entry['problems'], entry.get('warnings', []))
  return results


def _death_message(path, returncode, output, timeout_s) -> str:
  tail = '\n'.join(output.strip().splitlines()[-8:])
  if returncode is None:
    return (f'{path}: validation did not finish within {timeout_s:.0f} s '
            'per submission '
            f'and was stopped. Last output:\n{tail}')
  if returncode < 0:
    reason = f'was killed by signal {signal.Signals(-returncode).name}'
  else:
    reason = f'exited with code {returncode}'
  return (f'{path}: the validation process {reason} while checking this '
          f'submission (out of memory, or the submission called exit?). '
          f'Last output:\n{tail}')
