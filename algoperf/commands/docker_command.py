"""Print the `docker run` line that runs a submission in the harness image.

No network (--network none), read-only root filesystem, submission and data
mounted read-only, results to a writable mount, all capabilities dropped,
CPU/memory/process limits, and --gpus for the GPU image. Everything after
`--` goes to the entrypoint (docker/entrypoint.sh), e.g.

  algoperf docker-command --submission submissions/mine --data-dir D \\
    --results-dir R -- run --workload mnist --ruleset self
"""

import os
import pathlib
import shlex

DEFAULT_IMAGES = {'cpu': 'algoperf-bench:cpu', 'gpu': 'algoperf-bench:gpu'}


def add_arguments(parser):
  parser.add_argument('--submission', required=True, metavar='DIR')
  parser.add_argument('--data-dir', required=True, metavar='DIR',
                      help='prepared datasets (algoperf data prepare)')
  parser.add_argument('--results-dir', required=True, metavar='DIR')
  parser.add_argument('--name', default='submission',
                      help='experiment name inside the results dir')
  parser.add_argument('--gpu', action='store_true',
                      help='GPU image and --gpus (NVIDIA container toolkit)')
  parser.add_argument('--gpus', default='all',
                      help='value of docker --gpus with --gpu (default all)')
  parser.add_argument('--image', default=None,
                      help='image tag (default algoperf-bench:cpu or :gpu)')
  parser.add_argument('--cpus', default=None,
                      help='CPU limit (default: all CPUs of this machine)')
  parser.add_argument('--memory', default='16g', help='memory limit')
  parser.add_argument('--shm-size', default='8g',
                      help='/dev/shm size (data loaders, NCCL)')
  parser.add_argument('--pids-limit', type=int, default=4096)
  parser.add_argument('entrypoint_args', nargs='*', metavar='-- ARGS',
                      help='entrypoint command and options, after --')


def docker_run_args(submission, data_dir, results_dir, entrypoint_args,
                    name='submission', gpu=False, gpus='all', image=None,
                    cpus=None, memory='16g', shm_size='8g',
                    pids_limit=4096, uid=None, gid=None) -> list:
  """The argv of `docker run` (absolute host paths, nothing quoted)."""
  def absolute(path):
    return str(pathlib.Path(path).expanduser().resolve())

  uid = os.getuid() if uid is None else uid
  gid = os.getgid() if gid is None else gid
  args = [
    'docker', 'run', '--rm',
    '--network', 'none',
    '--read-only', '--tmpfs', '/tmp:rw,exec,size=2g',
    '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges',
    '--user', f'{uid}:{gid}', '--env', 'HOME=/tmp',
    '--cpus', str(cpus or os.cpu_count()),
    '--memory', memory, '--memory-swap', memory,
    '--pids-limit', str(pids_limit), '--shm-size', shm_size,
    '--mount', f'type=bind,source={absolute(submission)},'
    'target=/submission,readonly',
    '--mount', f'type=bind,source={absolute(data_dir)},target=/data,readonly',
    '--mount', f'type=bind,source={absolute(results_dir)},target=/results',
    '--env', f'ALGOPERF_EXPERIMENT_NAME={name}',
  ]
  if gpu:
    args += ['--gpus', gpus]
  args.append(image or DEFAULT_IMAGES['gpu' if gpu else 'cpu'])
  return args + list(entrypoint_args)


def run(args) -> int:
  from algoperf import names

  names.check_name(args.name)
  entrypoint_args = args.entrypoint_args or ['run', '--workload', 'mnist']
  argv = docker_run_args(
    args.submission, args.data_dir, args.results_dir, entrypoint_args,
    name=args.name, gpu=args.gpu, gpus=args.gpus, image=args.image,
    cpus=args.cpus, memory=args.memory, shm_size=args.shm_size,
    pids_limit=args.pids_limit)
  print(shlex.join(argv))
  return 0
