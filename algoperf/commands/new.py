"""Create a submission directory from the template.

Copies algoperf/submission_template (a documented, working SGD submission
with a search space and submission_info.yml; package data, so it is in
every install) to DIR/NAME (default submissions/NAME) and never overwrites
an existing directory.
"""

import pathlib
import re
import shutil

from algoperf.errors import AlgoperfError

TEMPLATE = pathlib.Path(__file__).resolve().parents[1] / 'submission_template'
_NAME = re.compile(r'^[A-Za-z][A-Za-z0-9_]*$')


def add_arguments(parser):
  parser.add_argument('name', metavar='NAME',
                      help='submission name (letters, digits, underscores)')
  parser.add_argument('--dir', default='submissions',
                      help='parent directory (default: submissions)')


def create(name: str, parent) -> pathlib.Path:
  """Copies the template to parent/name; returns the new directory."""
  if not _NAME.match(name):
    raise AlgoperfError(
      f'{name!r} is not a valid submission name: use letters, digits and '
      'underscores, starting with a letter (e.g. my_adamw).')
  if not TEMPLATE.is_dir():
    raise AlgoperfError(f'{TEMPLATE}: the template is missing from this '
                        'install; reinstall algoperf-bench (pip install '
                        '--force-reinstall algoperf-bench).')
  target = pathlib.Path(parent) / name
  if target.exists():
    raise AlgoperfError(f'{target} already exists; choose another NAME or '
                        'delete that directory first (nothing was changed).')
  shutil.copytree(TEMPLATE, target,
                  ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
  info = target / 'submission_info.yml'
  info.write_text(info.read_text().replace('submission_name: template',
                                           f'submission_name: {name}', 1))
  return target


def run(args) -> int:
  target = create(args.name, args.dir)
  print(f'Created {target}/ from the template. Next:\n'
        f'  algoperf validate {target}\n'
        f'  algoperf run --workload mnist --submission {target} '
        '--experiment-dir experiments --name try1')
  return 0
