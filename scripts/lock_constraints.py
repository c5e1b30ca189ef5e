"""Writes the constraints files that pin every package the harness installs.

  .venv/bin/python scripts/lock_constraints.py          # both files
  .venv/bin/python scripts/lock_constraints.py --check  # still resolvable?

constraints/lock.txt: one resolution of setup.cfg with the extras the
images and users install (gpu, ray, test, dev), for Python 3.11 on Linux
x86_64 (what the images run). constraints/algoperf-2c90454.lock.txt: the
same under AlgoPerf's pins (constraints/algoperf-2c90454.txt), for the
image of AlgoPerf's environment. The images install with them; users may
too (pip install '.[test]' -c constraints/lock.txt). The tf extra is left
out: tensorflow-cpu caps numpy and protobuf for everything else.

pip resolves from the index alone (--isolated: no pip.conf, no
PIP_FIND_LINKS), through PIP_INDEX_URL and PIP_CERT when they are set.
tests/test_constraints.py checks, offline, that every pin stays within
setup.cfg's ranges.
"""

import argparse
import json
import os
import pathlib
import platform
import subprocess
import sys
import tempfile

REPO = pathlib.Path(__file__).resolve().parents[1]
EXTRAS = 'gpu,ray,test,dev'
LOCKS = {
  REPO / 'constraints' / 'lock.txt': None,
  REPO / 'constraints' / 'algoperf-2c90454.lock.txt':
    REPO / 'constraints' / 'algoperf-2c90454.txt',
}
OWN_NAME = 'algoperf-bench'


def resolve(pins: pathlib.Path | None) -> dict:
  """{name: version} of one resolution of '.[EXTRAS]' (nothing installed)."""
  with tempfile.TemporaryDirectory() as tmp:
    report = pathlib.Path(tmp) / 'report.json'
    command = [sys.executable, '-m', 'pip', 'install', '--isolated',
               '--quiet', '--dry-run', '--ignore-installed',
               '--report', str(report), f'.[{EXTRAS}]']
    if pins is not None:
      command += ['-c', str(pins)]
    if os.environ.get('PIP_INDEX_URL'):
      command += ['--index-url', os.environ['PIP_INDEX_URL']]
    if os.environ.get('PIP_CERT'):
      command += ['--cert', os.environ['PIP_CERT']]
    subprocess.run(command, cwd=REPO, check=True)
    installed = json.loads(report.read_text())['install']
  return {item['metadata']['name'].lower(): item['metadata']['version']
          for item in installed
          if item['metadata']['name'].lower() != OWN_NAME}


def render(versions: dict, pins: pathlib.Path | None) -> str:
  under = ('' if pins is None else
           f'# under the pins of {pins.relative_to(REPO)},\n')
  return (f'# Every package of algoperf-bench[{EXTRAS}],\n{under}'
          '# resolved for Python 3.11 on Linux x86_64 by\n'
          '# scripts/lock_constraints.py, which rewrites this file;\n'
          "# tests/test_constraints.py keeps it within setup.cfg's ranges.\n"
          '# Use with: pip install -c THIS_FILE ...\n'
          + ''.join(f'{name}=={version}\n'
                    for name, version in sorted(versions.items())))


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--check', action='store_true',
                      help='resolve, compare, write nothing (exit 1 if a '
                      'file would change)')
  args = parser.parse_args(argv)
  # pip resolves for the interpreter running it (its --platform takes exact
  # tags only, missing the manylinux2014 wheels many packages ship).
  here = (sys.version_info[:2], sys.platform, platform.machine())
  if here != ((3, 11), 'linux', 'x86_64'):
    print(f'error: the locks are for Python 3.11 on Linux x86_64; found '
          f'Python {here[0][0]}.{here[0][1]} on {here[1]} {here[2]}; run '
          'this with such an interpreter (the images\' platform).',
          file=sys.stderr)
    return 1
  changed = []
  for path, pins in LOCKS.items():
    text = render(resolve(pins), pins)
    if path.exists() and path.read_text() == text:
      continue
    changed.append(path.relative_to(REPO))
    if not args.check:
      path.write_text(text)
  verb = 'would change' if args.check else 'rewritten'
  for path in changed:
    print(f'{path}: {verb}')
  return 1 if (changed and args.check) else 0


if __name__ == '__main__':
  sys.exit(main())
