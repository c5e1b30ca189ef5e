"""The ``algoperf`` console script: the only place that parses flags.

Each verb lives in its own module exposing ``add_arguments(parser)`` and
``run(args) -> int``; modules import heavy libraries (JAX, pandas) inside
``run`` so that ``algoperf --help`` starts fast.
"""

import argparse
import importlib
import os
import signal
import sys

from algoperf import exit_codes
from algoperf import host_paths
from algoperf.errors import AlgoperfError

# verb -> (module, one-line help). Adding a verb touches this dict only.
COMMANDS = {
  'workloads': ('algoperf.commands.workloads',
                'list workloads, targets, budgets'),
  'data': ('algoperf.commands.data', 'prepare datasets into the data dir'),
  'targets': ('algoperf.commands.targets',
              'export targets files (AlgoPerf\'s format or ours)'),
  'score': ('scoring.cli_score',
            'score experiment directories (AlgoPerf rules)'),
  'leaderboard': ('scoring.cli_leaderboard',
                  'write markdown + HTML leaderboard'),
  'run': ('algoperf.commands.run',
          'run a submission on one workload or the CPU suite'),
  'new': ('algoperf.commands.new', 'create submissions/NAME from the template'),
  'validate': ('algoperf.commands.validate',
               'check a submission: files, API, rules, a few steps'),
  'package': ('algoperf.commands.package',
              'bundle logs + submission source with sha256 checksums'),
  'docker-command': ('algoperf.commands.docker_command',
                     'print the docker run line for a submission'),
  'study': ('algoperf.commands.study',
            'N studies x M trials: local, pool or Ray'),
  'status': ('algoperf.commands.status',
             'trials of an experiment dir, from disk'),
  'refine': ('algoperf.commands.refine',
             'refined LR schedule from a finished trial\'s gradient norms'),
}


def build_parser() -> argparse.ArgumentParser:
  parser = argparse.ArgumentParser(
    prog='algoperf',
    description='Benchmark neural-network training algorithms '
    '(AlgoPerf-compatible).',
  )
  parser.add_argument('--version', action=_Version, nargs=0,
                      help='package version, benchmark versions of the '
                      'suites, git commit of a checkout; then exit')
  subparsers = parser.add_subparsers(dest='command', metavar='COMMAND')
  for verb, (module_name, help_text) in COMMANDS.items():
    module = importlib.import_module(module_name)
    sub = subparsers.add_parser(verb, help=help_text,
                                description=module.__doc__)
    module.add_arguments(sub)
    sub.set_defaults(_run=module.run)
  return parser


class _Version(argparse.Action):
  """Prints version.text(); the git call runs only when asked for."""

  def __call__(self, parser, namespace, values, option_string=None):
    from algoperf import version

    print(version.text())
    parser.exit()


def main(argv=None) -> int:
  """Runs one verb; its exit status is in the table of exit_codes.py."""
  host_paths.install()  # In a container: messages name the host's paths.
  parser = build_parser()
  args = parser.parse_args(argv)
  if not getattr(args, '_run', None):
    parser.print_help()
    return exit_codes.USAGE
  previous = signal.signal(signal.SIGTERM, _interrupt)
  try:
    return int(args._run(args) or 0)
  except AlgoperfError as e:
    _say(args, f'error: {e}')
    return e.exit_code
  except KeyboardInterrupt:
    _say(args, 'interrupted; rerun the same command to resume (finished '
         'trials and checkpoints are kept).')
    return exit_codes.INTERRUPTED
  except OSError as e:
    from algoperf import fs

    _say(args, 'error: ' + fs.infrastructure_message(e, 'writing results'))
    return exit_codes.INFRASTRUCTURE
  except Exception as e:  # noqa: BLE001 -- a bug: one line, not a traceback.
    _say(args, f'internal error: {type(e).__name__}: {e} (a bug of the '
         f'harness; the traceback is in {_save_traceback()}; please report '
         'it).')
    return exit_codes.INFRASTRUCTURE
  finally:
    signal.signal(signal.SIGTERM, previous)


def _interrupt(signum, frame):
  del signum, frame
  raise KeyboardInterrupt


def _say(args, text: str) -> None:
  print(f'algoperf {args.command}: {text}', file=sys.stderr)


def _save_traceback() -> str:
  import tempfile
  import traceback

  fd, path = tempfile.mkstemp(prefix='algoperf-traceback-', suffix='.txt')
  with os.fdopen(fd, 'w') as f:
    f.write(traceback.format_exc())
  return path


if __name__ == '__main__':
  sys.exit(main())
