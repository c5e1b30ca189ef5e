"""A 2-study x 2-trial mnist study on a real local Ray cluster equals the
same study run by the process pool (same seeds -> same eval records)."""

import os
import pathlib
import signal
import socket
import subprocess
import sys
import time

import pytest

from algoperf import records
from tests.algoperf.conftest import run_cli
from tests.conftest import ALGOPERF_STYLE

pytest.importorskip(
  'ray', reason="Ray is not installed: pip install -e '.[ray]' to run the "
  'Ray cluster test.')

pytestmark = pytest.mark.slow  # A Ray cluster plus 8 trial processes.

SPACE = '{"learning_rate": {"min": 1e-4, "max": 1e-2, "scaling": "log"}}'


def algoperf(*args, env=None):
  return run_cli(*args, env=env, timeout=900)


def _free_port() -> int:
  with socket.socket() as s:
    s.bind(('127.0.0.1', 0))
    return s.getsockname()[1]


def _wait_for_port(port: int, process, timeout: float = 120) -> None:
  deadline = time.monotonic() + timeout
  while time.monotonic() < deadline:
    assert process.poll() is None, 'ray start exited early'
    with socket.socket() as s:
      if s.connect_ex(('127.0.0.1', port)) == 0:
        return
    time.sleep(0.2)
  raise AssertionError(f'Ray head did not listen on {port} in {timeout} s')


@pytest.fixture
def ray_cluster(tmp_path):
  """`ray start --head` on 127.0.0.1 with 2 CPUs, in its own session.

  ``--block`` keeps `ray start` in the foreground; on teardown its process
  group (head, raylet and workers) gets SIGTERM, then SIGKILL -- only the
  processes this fixture started, whatever the test's outcome.
  """
  port = _free_port()
  ray = pathlib.Path(sys.executable).parent / 'ray'
  env = {**os.environ, 'JAX_PLATFORMS': 'cpu', 'RAY_USAGE_STATS_ENABLED': '0'}
  log = open(tmp_path / 'ray_start.log', 'w')
  head = subprocess.Popen(
    [ray, 'start', '--head', '--node-ip-address', '127.0.0.1', '--port',
     str(port), '--num-cpus', '2', '--num-gpus', '0', '--include-dashboard',
     'false', '--disable-usage-stats', '--block'],
    env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
  try:
    _wait_for_port(port, head)
    yield f'127.0.0.1:{port}'
  finally:
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
      try:
        os.killpg(head.pid, sig)
      except ProcessLookupError:
        break
      try:
        head.wait(timeout=wait)
        break
      except subprocess.TimeoutExpired:
        continue
    log.close()


def _study(backend, experiment_dir, data_dir, space, *extra):
  return algoperf(
    'study', '--submission', ALGOPERF_STYLE, '--workloads', 'mnist',
    '--studies', 2, '--trials', 2, '--search-space', space,
    '--backend', backend, '--experiment-dir', experiment_dir, '--name', 'st',
    '--rng-seed', 11, '--max-steps', 30, '--eval-every-steps', 10,
    '--data-dir', data_dir, '--no-progress', *extra,
    env={**os.environ, 'JAX_PLATFORMS': 'cpu'})


def _records(experiment_dir) -> dict:
  found = {}
  for study in (0, 1):
    for trial in (1, 2):
      path = records.trial_dir(experiment_dir, 'st', study, 'mnist', trial)
      rows = records.read_rows_csv(path / records.EVAL_MEASUREMENTS)
      found[study, trial] = (
        records.read_json(path / records.HPARAMS),
        [{k: v for k, v in r.items()
          if k == 'global_step' or k.split('/')[0] in ('train', 'validation',
                                                       'test')}
         for r in rows])
  return found


def test_ray_study_equals_process_pool_study(ray_cluster, mnist_data_dir,
                                            tmp_path):
  space = tmp_path / 'space.json'
  space.write_text(SPACE)
  on_ray = _study('ray', tmp_path / 'ray', mnist_data_dir, space,
                  '--address', ray_cluster)
  assert on_ray.returncode == 0, on_ray.stderr + on_ray.stdout
  on_pool = _study('pool', tmp_path / 'pool', mnist_data_dir, space)
  assert on_pool.returncode == 0, on_pool.stderr + on_pool.stdout
  ray_records, pool_records = (_records(tmp_path / 'ray'),
                               _records(tmp_path / 'pool'))
  assert ray_records == pool_records
  points = [hp['learning_rate'] for hp, _ in ray_records.values()]
  assert len(set(points)) == 4  # Two studies, two points each, all distinct.
  assert all([r['global_step'] for r in rows] == [1, 11, 21, 30]
             for _, rows in ray_records.values())
  status = algoperf('status', tmp_path / 'ray')
  assert status.returncode == 0, status.stderr
  assert status.stdout.count('max_steps') >= 4
  # Rerunning the same command skips the finished trials.
  again = _study('ray', tmp_path / 'ray', mnist_data_dir, space, '--address',
                 ray_cluster)
  assert again.returncode == 0, again.stderr
  for study in (0, 1):
    for trial in (1, 2):
      path = records.trial_dir(tmp_path / 'ray', 'st', study, 'mnist', trial)
      assert not (path / 'meta_data_1.json').exists()
