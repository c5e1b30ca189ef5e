"""Shared fixtures: tiny synthetic workloads and in-memory submissions."""

import dataclasses
import json
import os
import pathlib
import shutil
import sys

import pytest

# Tests check behaviour, not speed: XLA's backend optimizations triple the
# compile time of the small models here and buy nothing for a few steps.
# Set before JAX is imported; an explicit XLA_FLAGS from the caller wins.
os.environ.setdefault('XLA_FLAGS', '--xla_backend_optimization_level=0')

REPO = pathlib.Path(__file__).resolve().parents[1]
FIXTURES = REPO / 'tests' / 'fixtures'
ALGOPERF_STYLE = FIXTURES / 'algoperf_style'
LEADERBOARDS = REPO / 'docs' / 'leaderboard'
# The page kept from the benchmark version before: the tests that check its
# published numbers (5 algorithms, census_dlrm's held-out variant) use it.
CPU_0_3_LEADERBOARD = LEADERBOARDS / 'cpu-0.3'


def committed_leaderboards() -> list[pathlib.Path]:
  """Every committed leaderboard page (a folder with logs/ and README.md):
  the current version's in docs/leaderboard/ and the kept ones below it."""
  return sorted(logs.parent for logs in [LEADERBOARDS / 'logs',
                                         *LEADERBOARDS.glob('*/logs')]
                if (logs.parent / 'README.md').is_file())

if str(REPO) not in sys.path:
  sys.path.insert(0, str(REPO))


def finish_trial(job, metric: str, curve) -> None:
  """Writes ``job``'s trial as finished (max_steps), without training it:
  its evals of ``validation/<metric>`` are ``curve``'s (step, value) pairs."""
  import csv

  from algoperf import records

  job.trial_dir.mkdir(parents=True, exist_ok=True)
  with open(job.trial_dir / records.EVAL_MEASUREMENTS, 'w',
            newline='') as f:
    writer = csv.writer(f)
    writer.writerow(['global_step', f'validation/{metric}'])
    writer.writerows(curve)
  records.write_json(job.trial_dir / records.STATUS,
                     {'status': records.MAX_STEPS})


def pytest_collection_modifyitems(config, items):
  """``serial`` tests measure the machine (or load it with processes):
  beside other tests, under xdist, they skip; CI runs them alone."""
  if not os.environ.get('PYTEST_XDIST_WORKER'):
    return
  skip = pytest.mark.skip(reason='a serial test: run alone with -m serial '
                          '-p no:xdist (CI does, in its own step)')
  for item in items:
    if 'serial' in item.keywords:
      item.add_marker(skip)


@pytest.fixture
def mnist_synthetic():
  """The real mnist workload class serving 64 random examples per split.

  Without mnist's 2 s budget, which a first compile on a loaded machine
  can spend: a test about the budget sets its own (override_facts).
  """
  return _synthetic('mnist')


@pytest.fixture
def first_base_synthetic():
  """The current suite's first base workload (a small MLP family) serving
  64 random examples per split, without its budget: a trial that the
  suite's builtin targets score."""
  from algoperf import registry

  return _synthetic(registry.suite().base_workloads[0])


def _synthetic(name: str):
  """Workload ``name`` on 64 random examples per split, without a budget."""
  from algoperf import registry

  workload = registry.make_workload(name, max_allowed_runtime_sec=10**9)
  workload.use_synthetic_data(64)
  return workload


def load_fixture_submission(path=ALGOPERF_STYLE, **overrides):
  """Loads a submission file, then swaps in replacement functions."""
  from algoperf import submission as submission_lib

  loaded = submission_lib.load_submission(path)
  return dataclasses.replace(loaded, **overrides)


def slowed_submission(tmp_path, seconds_per_step: float) -> pathlib.Path:
  """The AlgoPerf-style fixture submission, ``seconds_per_step`` slower in
  data_selection: room to kill a trial mid-run."""
  source = ALGOPERF_STYLE.joinpath('submission.py').read_text()
  marker = '  return next(input_queue)\n'
  assert marker in source
  directory = tmp_path / 'slow'
  directory.mkdir()
  directory.joinpath('submission.py').write_text(source.replace(
    marker, f'  __import__("time").sleep({seconds_per_step})\n' + marker))
  return directory


@pytest.fixture
def experiment_dir(tmp_path):
  return tmp_path / 'experiments'


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path, monkeypatch):
  """Tests never read the user's prepared data unless they ask for it."""
  if 'ALGOPERF_TEST_REAL_DATA' not in os.environ:
    monkeypatch.setenv('ALGOPERF_DATA_DIR', str(tmp_path / 'data'))


@pytest.fixture(scope='session')
def prepared_data_dir(tmp_path_factory):
  """One data directory for the whole run, shared by the xdist workers.

  Datasets go in through ``prepare_once``, so each real dataset is prepared
  at most once per run however many tests read it.
  """
  root = tmp_path_factory.getbasetemp()
  if os.environ.get('PYTEST_XDIST_WORKER'):
    root = root.parent  # The run's directory, above each worker's own.
  return root / 'prepared_data'


def prepare_once(builder_cls, data_dir: pathlib.Path):
  """Prepares ``builder_cls`` in ``data_dir`` under a lock; its builder."""
  import fcntl

  from algoperf.data import prepared

  data_dir.mkdir(parents=True, exist_ok=True)
  with open(data_dir / f'.{builder_cls.name}.lock', 'w') as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)
    return prepared.prepare(builder_cls, data_dir)


def abstract_params(name: str):
  """Parameter shapes of workload ``name``'s model, traced, not compiled."""
  import jax

  from algoperf import registry

  workload = registry.make_workload(name)
  keys = dict.fromkeys(('params', 'dropout'), jax.random.PRNGKey(0))
  variables = jax.eval_shape(
    lambda: workload.build_model().init(keys, workload.init_inputs(),
                                        train=False))
  return variables['params']


@pytest.fixture
def suites_dir(tmp_path, monkeypatch):
  """A copy of the shipped suite files that a test may edit."""
  from algoperf import registry

  copy = tmp_path / 'suites'
  shutil.copytree(registry.SUITES_DIR, copy)
  monkeypatch.setattr(registry, 'SUITES_DIR', copy)
  registry.suites.cache_clear()
  yield copy
  registry.suites.cache_clear()


def edit_suite_file(path, change):
  """Applies ``change`` to the suite file at ``path`` (a ``suites_dir``
  copy) and makes the registry read it again."""
  from algoperf import registry

  raw = json.loads(path.read_text())
  change(raw)
  path.write_text(json.dumps(raw))
  registry.suites.cache_clear()
