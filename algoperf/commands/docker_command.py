"""Print the `docker run` line that runs a submission in the harness image.

No network (--network none), read-only root filesystem, submission and data
mounted read-only, results to a writable mount (created here if missing),
all capabilities dropped, CPU/memory/process limits, a small init as
process 1, and the GPUs for the GPU image. Messages inside the container
name the host's paths. `--engine podman` prints the same for Podman.
Everything after `--` goes to the entrypoint (docker/entrypoint.sh), e.g.

  algoperf docker-command --submission submissions/mine --data-dir D \\
    --results-dir R -- run --workload mnist --ruleset self
"""

import json
import os
import pathlib
import shlex
import sys

from algoperf import host_paths
from algoperf.errors import AlgoperfError

DEFAULT_IMAGES = {'cpu': 'algoperf-bench:cpu', 'gpu': 'algoperf-bench:gpu'}
ENGINES = ('docker', 'podman')
# Where the entrypoint expects each mount (docker/entrypoint.sh).
SUBMISSION, DATA, RESULTS = '/submission', '/data', '/results'


def add_arguments(parser):
  parser.add_argument('--submission', required=True, metavar='DIR')
  parser.add_argument('--data-dir', required=True, metavar='DIR',
                      help='prepared datasets (algoperf data prepare)')
  parser.add_argument('--results-dir', required=True, metavar='DIR',
                      help='created if missing')
  parser.add_argument('--name', default='submission',
                      help='experiment name inside the results dir')
  parser.add_argument('--engine', choices=ENGINES, default='docker',
                      help='print a docker (default) or a podman line')
  parser.add_argument('--gpu', action='store_true',
                      help='GPU image and its GPUs (docker: --gpus, NVIDIA '
                      'Container Toolkit; podman: CDI devices)')
  parser.add_argument('--gpus', default='all',
                      help='which GPUs with --gpu: all (default) or a '
                      'device list such as 0,1')
  parser.add_argument('--image', default=None,
                      help='image tag (default algoperf-bench:cpu or :gpu)')
  parser.add_argument('--cpus', default=None,
                      help='CPU limit (default: all CPUs of this machine)')
  parser.add_argument('--memory', default='16g', help='memory limit')
  parser.add_argument('--shm-size', default='8g',
                      help='/dev/shm size (data loaders, NCCL)')
  parser.add_argument('--pids-limit', type=int, default=4096)
  parser.add_argument('--env', action='append', default=[],
                      metavar='NAME=VALUE',
                      help='an environment variable for the container '
                      '(repeatable), e.g. JAX_PLATFORMS=cpu')
  parser.add_argument('entrypoint_args', nargs='*', metavar='-- ARGS',
                      help='entrypoint command and options, after --')


def _absolute(path) -> str:
  return str(pathlib.Path(path).expanduser().resolve())


def _gpu_args(engine: str, gpus: str) -> list:
  if engine == 'docker':
    return ['--gpus', gpus if gpus == 'all' else f'"device={gpus}"']
  # Podman reaches GPUs through CDI (nvidia-ctk cdi generate); the SELinux
  # label would hide the device files from the container.
  devices = ['all'] if gpus == 'all' else gpus.split(',')
  return [arg for device in devices
          for arg in ('--device', f'nvidia.com/gpu={device}')] + [
    '--security-opt', 'label=disable']


def docker_run_args(submission, data_dir, results_dir, entrypoint_args,
                    name='submission', gpu=False, gpus='all', image=None,
                    cpus=None, memory='16g', shm_size='8g',
                    pids_limit=4096, uid=None, gid=None, engine='docker',
                    env=()) -> list:
  """The argv of `docker run` (absolute host paths, nothing quoted)."""
  uid = os.getuid() if uid is None else uid
  gid = os.getgid() if gid is None else gid
  mounts = {SUBMISSION: _absolute(submission), DATA: _absolute(data_dir),
            RESULTS: _absolute(results_dir)}
  args = [
    engine, 'run', '--rm',
    # A small init as process 1: it reaps orphans and forwards signals.
    '--init',
    '--network', 'none',
    '--read-only', '--tmpfs', '/tmp:rw,exec,size=2g',
    '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges',
    '--user', f'{uid}:{gid}', '--env', 'HOME=/tmp',
    '--cpus', str(cpus or os.cpu_count()),
    '--memory', memory, '--memory-swap', memory,
    '--pids-limit', str(pids_limit), '--shm-size', shm_size,
    '--mount', f'type=bind,source={mounts[SUBMISSION]},'
    f'target={SUBMISSION},readonly',
    '--mount', f'type=bind,source={mounts[DATA]},target={DATA},readonly',
    '--mount', f'type=bind,source={mounts[RESULTS]},target={RESULTS}',
    '--env', f'ALGOPERF_EXPERIMENT_NAME={name}',
    # Messages inside name these host paths (algoperf/host_paths.py).
    '--env', f'{host_paths.ENV}={json.dumps(mounts, sort_keys=True)}',
  ]
  for item in env:
    args += ['--env', item]
  if gpu:
    args += _gpu_args(engine, gpus)
  args.append(image or DEFAULT_IMAGES['gpu' if gpu else 'cpu'])
  return args + list(entrypoint_args)


def check_mounts(submission, data_dir, results_dir) -> bool:
  """Refuses missing inputs; creates the results directory.

  Returns whether it was created. Raises AlgoperfError naming the fix.
  """
  if not (pathlib.Path(submission) / 'submission.py').is_file():
    raise AlgoperfError(
      f'--submission {submission}: no submission.py there; pass the '
      'directory holding it (algoperf new NAME makes one).')
  if not pathlib.Path(data_dir).is_dir():
    raise AlgoperfError(
      f'--data-dir {data_dir}: no such directory; prepare data there first '
      f'(algoperf data prepare NAME --data-dir {data_dir}).')
  results = pathlib.Path(results_dir)
  if results.is_dir():
    return False
  try:
    results.mkdir(parents=True)
  except OSError as e:
    raise AlgoperfError(
      f'--results-dir {results_dir}: cannot create it ({e.strerror}); '
      'create it yourself (mkdir -p) or choose another.') from e
  return True


def run(args) -> int:
  from algoperf import names

  names.check_name(args.name)
  for item in args.env:
    if not item.partition('=')[0] or '=' not in item:
      raise AlgoperfError(f'--env {item}: expected NAME=VALUE.')
  if check_mounts(args.submission, args.data_dir, args.results_dir):
    print(f'algoperf docker-command: created {args.results_dir}/ for the '
          'results (mounted writable at /results).', file=sys.stderr)
  entrypoint_args = args.entrypoint_args or ['run', '--workload', 'mnist']
  argv = docker_run_args(
    args.submission, args.data_dir, args.results_dir, entrypoint_args,
    name=args.name, gpu=args.gpu, gpus=args.gpus, image=args.image,
    cpus=args.cpus, memory=args.memory, shm_size=args.shm_size,
    pids_limit=args.pids_limit, engine=args.engine, env=args.env)
  print(shlex.join(argv))
  return 0
