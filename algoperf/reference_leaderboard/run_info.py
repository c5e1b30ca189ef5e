"""What `run` records beside the logs: settings, machine, targets, skips.

A leaderboard directory (the experiment directory `run` writes, and the
committed docs/leaderboard/ that `pack` fills) holds the logs in ``logs/``
and two small files beside them, so that `page` shows where and how they
were produced (not where the page happens to be regenerated):

  leaderboard_run.json   settings, one session per `run` invocation (date,
                         command, CPU, cores, memory, package versions, git
                         commit) and the held-out trials skipped, and why
  workload_targets.json  the targets the trials ran against, in AlgoPerf's
                         workload_targets format with the held-out list
                         (and our keys: `algoperf targets export --from` it
                         for AlgoPerf's scorer)

Beside, not inside: AlgoPerf's scoring reads every entry of a logs directory
as a submission and fails on a file. An experiment directory of earlier
versions has the algorithms at its top with the two files among them; it
is read, resumed and packed as it is (``logs_dir`` is then the experiment
directory itself, and the files are found inside it).
"""

import datetime
import os
import pathlib

from algoperf import records
from algoperf.errors import AlgoperfError

INFO_FILE = 'leaderboard_run.json'
TARGETS_FILE = 'workload_targets.json'
LOGS_DIR = 'logs'
# The committed leaderboard (repository path): `pack`'s and `page`'s default.
# An earlier version's page, kept in a folder of its own, names its folder
# in the commands it shows.
DEFAULT_LOCATION = 'docs/leaderboard'
RULESET = 'self'
RULES = 'v0.5'
# Settings a rerun must repeat: mixing them would mix incomparable trials.
_FIXED = ('rng_seed', 'max_steps', 'synthetic_data')


class LeaderboardError(AlgoperfError):
  """Bad options, or a rerun that does not match the logs already there."""


def now() -> str:
  return datetime.datetime.now(datetime.UTC).isoformat(timespec='seconds')


def logs_dir(experiment_dir) -> pathlib.Path:
  """Where the trials of a leaderboard experiment directory go.

  ``<experiment_dir>/logs``; the directory itself when it holds a run of an
  earlier version there (its run record among the algorithms' folders).
  """
  exp = pathlib.Path(experiment_dir)
  if (exp / INFO_FILE).exists() and any(exp.glob('*/study_*')):
    return exp
  return exp / LOGS_DIR


def record_path(logs, name: str) -> pathlib.Path:
  """The file ``name`` of the logs directory ``logs``: beside it, or
  inside it where earlier versions put it (and kept writing it)."""
  logs = pathlib.Path(logs)
  inside = logs / name
  beside = logs.parent / name
  return inside if inside.exists() and not beside.exists() else beside


def read(logs) -> dict:
  """The run record of the logs directory ``logs``; raises if none."""
  path = record_path(logs, INFO_FILE)
  if not path.exists():
    raise LeaderboardError(
      f'{path} not found: it is written by `scripts/cpu_leaderboard.py run` '
      'beside the logs it trains and copied by `pack`. Pass the logs '
      'directory it sits beside.')
  return records.read_json(path)


def write(logs, info: dict) -> None:
  records.write_json(record_path(logs, INFO_FILE), info)


def build_targets(bases: list[str],
                  benchmark_version: str | None = None) -> dict:
  """The targets file of ``bases`` and their held-out variants (v0.5), at
  the suite's current version or an earlier ``benchmark_version``."""
  from algoperf import registry

  document = registry.targets_document(registry.DEFAULT_SUITE, rules=RULES,
                                       workloads=bases,
                                       benchmark_version=benchmark_version)
  suite = registry.suite(registry.DEFAULT_SUITE)
  if benchmark_version is not None:
    suite = suite.version(benchmark_version)
  for name, entry in document['workloads'].items():
    entry['targets_are_provisional'] = suite.workloads[
      name].targets_are_provisional
  return {
    '_comment': 'Written by scripts/cpu_leaderboard.py run from the workload '
    'registry: the targets these trials ran against.', **document}


def merge_targets(logs, new: dict, order: list[str]) -> dict:
  """Adds ``new`` to the snapshot already beside ``logs`` (if any).

  Raises:
    LeaderboardError: a workload's target changed since its trials ran.
  """
  path = record_path(logs, TARGETS_FILE)
  if not path.exists():
    return new
  old = records.read_json(path)
  changed = [name for name, entry in new['workloads'].items()
             if name in old['workloads'] and old['workloads'][name] != entry]
  if changed or old['benchmark_version'] != new['benchmark_version']:
    what = ', '.join(changed) or f'benchmark version {new["benchmark_version"]}'
    raise LeaderboardError(
      f'The registry\'s targets of {what} differ from {path}, which the '
      'trials there ran against (finished trials stopped at the old '
      'targets). Start a new --experiment-dir, move the old one away, or '
      'set aside only those workloads\' trials with `scripts/'
      'cpu_leaderboard.py forget --workloads BASE,...`.')
  bases = set(old['base_workloads']) | set(new['base_workloads'])
  merged = dict(old, workloads={**old['workloads'], **new['workloads']})
  merged['base_workloads'] = [b for b in order if b in bases]
  variants = {**_variants(old), **_variants(new)}
  merged['held_out_workloads'] = [variants[b] for b in merged['base_workloads']]
  return merged


def _variants(targets: dict) -> dict[str, str]:
  return {targets['workloads'][v]['base_name']: v
          for v in targets['held_out_workloads']}


def machine() -> dict:
  """CPU, cores, memory and package versions of this machine."""
  from algoperf import study_backends

  meta = records.hardware_and_software(0)
  return {
    'cpu_model': meta['processor'],
    'logical_cpus': meta['cpu_count'],
    'usable_cpus': study_backends.usable_cpus(),
    'memory_gib': _memory_gib(),
    'platform': meta['platform'],
    'python': meta['python_version'],
    'jax_backend': meta['jax_backend'],
    'packages': meta['software_versions'],
    'git_commit': meta['git_commit'],
    'git_dirty': _git_dirty(),
    'load_average_at_start': _load_average(),
  }


def _load_average() -> float | None:
  try:
    return round(os.getloadavg()[0], 2)
  except OSError:
    return None


def _git_dirty() -> bool | None:
  """Whether tracked files differ from the commit (None: no git)."""
  import subprocess

  try:
    done = subprocess.run(['git', 'status', '--porcelain',
                           '--untracked-files=no'], capture_output=True,
                          text=True, cwd=pathlib.Path(__file__).parent,
                          check=True, timeout=10)
  except (OSError, subprocess.SubprocessError):
    return None
  return bool(done.stdout.strip())


def _memory_gib() -> float | None:
  try:
    with open('/proc/meminfo') as f:
      for line in f:
        if line.startswith('MemTotal:'):
          return round(int(line.split()[1]) / 2**20, 1)
  except (OSError, ValueError):
    pass
  return None


def start_session(logs, settings: dict, command: str) -> dict:
  """Reads (or creates) the record, checks the rerun, adds a session.

  The caller writes the record once a trial has finished, so that an
  invocation that stops before training leaves no session behind.

  Raises:
    LeaderboardError: the rerun changes a fixed setting or drops studies.
  """
  path = record_path(logs, INFO_FILE)
  info = records.read_json(path) if path.exists() else {
    'ruleset': RULESET, 'rules': RULES, 'algorithms': [], 'sessions': [],
    'held_out_skips': [], **{k: settings[k] for k in _FIXED}}
  for key in _FIXED:
    if info.get(key) != settings[key]:
      raise LeaderboardError(
        f'{path}: the trials there ran with {key}={info.get(key)!r}, this '
        f'run asks for {settings[key]!r}. Repeat the original value, or use '
        'another --experiment-dir.')
  if settings['num_studies'] < info.get('num_studies', 0):
    raise LeaderboardError(
      f'{path}: {info["num_studies"]} studies were planned; pass --studies '
      f'{info["num_studies"]} or more (studies can be added, not removed).')
  info['num_studies'] = settings['num_studies']
  info['algorithms'] += [a for a in settings['algorithms']
                         if a not in info['algorithms']]
  info['sessions'].append({'started': now(), 'last_update': now(),
                           'command': command, 'machine': machine()})
  return info


def last_update(info: dict) -> str:
  """When the last trial of the record finished (ISO, UTC)."""
  if not info['sessions']:
    raise LeaderboardError('The run record lists no session that ran a '
                           'trial; run `scripts/cpu_leaderboard.py run` first.')
  return max(s['last_update'] for s in info['sessions'])
