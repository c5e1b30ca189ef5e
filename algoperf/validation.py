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
found. Many submissions can share one subprocess (``validate_many``); a
submission that hangs or crashes it is reported and the rest go on in a
fresh one.
"""

import dataclasses
import json
import os
import pathlib
import signal
import subprocess
import sys
import tempfile

from algoperf import submission_rules

SEARCH_SPACE = 'tuning_search_space.json'
REQUIREMENTS = 'requirements.txt'
SUBMISSION_INFO = 'submission_info.yml'
INFO_FIELDS = ('submission_name', 'authors', 'affiliations', 'ruleset',
               'framework', 'description')
SIMULATED_DEVICES = 8
# Generous: a first compilation on a busy 2-core machine can take minutes.
DEFAULT_TIMEOUT_S = 1200.0  # Per submission.
DEFAULT_CALL_TIMEOUT_S = 300.0


@dataclasses.dataclass
class Report:
  directory: pathlib.Path
  problems: list
  notes: list

  @property
  def ok(self) -> bool:
    return not self.problems

  def format(self) -> str:
    lines = [f'note: {n}' for n in self.notes]
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
  problems += _requirements_problems(directory / REQUIREMENTS)
  info = directory / SUBMISSION_INFO
  if info.exists():
    problems += _info_problems(info, ruleset)
  else:
    notes.append(f'no {SUBMISSION_INFO} in {directory}; add one (fields '
                 f'{", ".join(INFO_FIELDS)}) before handing in results; '
                 'submissions/template has an example.')
  return problems, notes


def _search_space_problems(path: pathlib.Path) -> list:
  from algoperf import tuning
  from algoperf.errors import SearchSpaceError

  if not path.exists():
    return [f'{path}: missing. External tuning needs a search space '
            '(see submissions/template/tuning_search_space.json), or '
            'validate with --ruleset self.']
  try:
    tuning.load_search_space(path)
  except SearchSpaceError as e:
    return [str(e)]
  return []


def _requirements_problems(path: pathlib.Path) -> list:
  import importlib.metadata as md

  from packaging.requirements import InvalidRequirement
  from packaging.requirements import Requirement

  if not path.exists():
    return []
  problems = []
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
      problems.append(f'{where}: needs {line}, found {requirement.name} '
                      f'{installed} installed.')
  return problems


def _info_problems(path: pathlib.Path, ruleset: str) -> list:
  import yaml

  try:
    info = yaml.safe_load(path.read_text())
  except yaml.YAMLError as e:
    return [f'{path}: not valid YAML ({e}).']
  if not isinstance(info, dict):
    return [f'{path}: expected a mapping of fields, found '
            f'{type(info).__name__}.']
  problems = [f'{path}: missing or empty field {field!r}.'
              for field in INFO_FIELDS if not info.get(field)]
  if info.get('ruleset') and info['ruleset'] not in ('external', 'self'):
    problems.append(f'{path}: ruleset is {info["ruleset"]!r}; expected '
                    '"external" or "self".')
  elif info.get('ruleset') and info['ruleset'] != ruleset:
    problems.append(f'{path}: ruleset is {info["ruleset"]!r} but the '
                    f'validation ran with --ruleset {ruleset}; make them '
                    'agree.')
  if info.get('framework') and str(info['framework']).lower() != 'jax':
    problems.append(f'{path}: framework is {info["framework"]!r}; this '
                    'harness runs JAX submissions only ("JAX").')
  return problems


def validate(path, ruleset: str = 'external', **kwargs) -> Report:
  """Validates one submission directory (or its submission.py)."""
  return validate_many([path], ruleset, **kwargs)[0]


def validate_many(paths, ruleset: str = 'external', workloads=None,
                  timeout_s: float = DEFAULT_TIMEOUT_S,
                  call_timeout_s: float = DEFAULT_CALL_TIMEOUT_S) -> list:
  """One Report per path, in order; their runtime checks share processes."""
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
                       ruleset, workloads, timeout_s, call_timeout_s)
  for report in runnable:
    for problem in runtime[str(report.directory / 'submission.py')]:
      if problem not in report.problems:
        report.problems.append(problem)
  return reports


def run_worker(paths, ruleset, workloads, timeout_s, call_timeout_s) -> dict:
  """{str(path): runtime problems}; restarts the worker after a crash."""
  results, pending = {}, [str(p) for p in paths]
  with tempfile.TemporaryDirectory(prefix='algoperf-validate-') as scratch:
    report = os.path.join(scratch, 'report.jsonl')
    while pending:
      returncode, output = _launch(pending, report, scratch, ruleset,
                                   workloads, timeout_s, call_timeout_s)
      results.update(_read_report(report))
      if pending[0] not in results:  # The worker died on this submission.
        results[pending[0]] = [_death_message(pending[0], returncode, output,
                                              timeout_s)]
      pending = [p for p in pending if p not in results]
  return results


def _launch(pending, report, scratch, ruleset, workloads, timeout_s,
            call_timeout_s):
  tmpdir = os.path.join(scratch, 'tmp')
  os.makedirs(tmpdir, exist_ok=True)
  env = dict(os.environ, TMPDIR=tmpdir, JAX_PLATFORMS='cpu',
             XLA_FLAGS=(os.environ.get('XLA_FLAGS', '') + ' --xla_force_host'
                        f'_platform_device_count={SIMULATED_DEVICES}').strip())
  command = [sys.executable, '-m', 'algoperf.validation_worker',
             '--report', report, '--ruleset', ruleset,
             '--workloads', ','.join(workloads),
             '--call-timeout', str(call_timeout_s), *pending]
  process = subprocess.Popen(
    command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    text=True, start_new_session=True, cwd=scratch)
  try:
    output, _ = process.communicate(timeout=timeout_s * len(pending))
    return process.returncode, output
  except subprocess.TimeoutExpired:
    os.killpg(process.pid, signal.SIGKILL)
    output, _ = process.communicate()
    return None, output


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
      results[entry['submission']] = entry['problems']
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
