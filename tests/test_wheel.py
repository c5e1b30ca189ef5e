"""Every verb works from the wheel, installed into a fresh venv, run
outside the source tree: nothing may depend on a checkout (the template
of `algoperf new`, suites' facts, reference leaderboard data, ...)."""

import pathlib
import shutil
import subprocess
import sys
import venv

import pytest

from tests.conftest import REPO

# Builds a wheel and installs the pinned stack (~1 GB, from pip's cache or
# the index) into a new venv: minutes, not seconds.
pytestmark = pytest.mark.slow


def _run(args, cwd, timeout=900):
  proc = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True,
                        text=True, timeout=timeout, check=False)
  assert proc.returncode == 0, (
    f'{" ".join(map(str, args))} exited {proc.returncode}\n'
    f'{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}')
  return proc.stdout


@pytest.fixture(scope='module')
def installed(tmp_path_factory):
  """A fresh venv holding the wheel (pinned by constraints/lock.txt)."""
  root = tmp_path_factory.mktemp('wheel')
  # From a copy of the working tree's files (tracked or not ignored):
  # setuptools would leave build/ in the checkout, and a stale build/lib
  # goes into later wheels.
  files = _run(['git', 'ls-files', '-z', '--cached', '--others',
                '--exclude-standard'], cwd=REPO).split('\0')
  source = root / 'source'
  for name in filter(None, files):
    if (REPO / name).is_file():
      (source / name).parent.mkdir(parents=True, exist_ok=True)
      shutil.copy2(REPO / name, source / name)
  _run([sys.executable, '-m', 'pip', 'wheel', '--no-deps',
        '-w', root / 'dist', source], cwd=root)
  wheel, = (root / 'dist').glob('algoperf_bench-*.whl')
  venv.create(root / 'venv', with_pip=True)
  python = root / 'venv' / 'bin' / 'python'
  _run([python, '-m', 'pip', 'install', '--quiet', '-c',
        REPO / 'constraints' / 'lock.txt', wheel], cwd=root)
  home = root / 'home'  # Not the checkout: only the install is importable.
  home.mkdir()
  return root / 'venv' / 'bin' / 'algoperf', home


def test_every_verb_works_from_the_wheel(installed):
  algoperf, home = installed
  origin = _run([algoperf.parent / 'python', '-c',
                 'import algoperf; print(algoperf.__file__)'], cwd=home)
  assert str(REPO) not in origin and 'site-packages' in origin

  _run([algoperf, 'new', 'my_algo'], cwd=home)
  submission = home / 'submissions' / 'my_algo'
  assert (submission / 'submission.py').is_file()
  assert 'submission_name: my_algo' in (
    submission / 'submission_info.yml').read_text()

  assert 'mnist' in _run([algoperf, 'workloads'], cwd=home)

  data = home / 'data'
  _run([algoperf, 'data', 'prepare', 'mnist', '--data-dir', data], cwd=home)

  experiments = home / 'experiments'
  _run([algoperf, 'run', '--workload', 'mnist', '--submission', submission,
        '--data-dir', data, '--max-steps', '5', '--no-progress',
        '--experiment-dir', experiments, '--name', 'wheel'], cwd=home)
  trial = experiments / 'wheel' / 'study_0' / 'mnist_jax' / 'trial_1'
  assert (trial / 'eval_measurements.csv').is_file()
  assert '"max_steps"' in (trial / 'status.json').read_text()

  scores = home / 'scores'
  _run([algoperf, 'score', experiments / 'wheel', '--output-dir', scores,
        '--no-plots'], cwd=home)
  assert (scores / 'scores.csv').is_file()

  board = home / 'board'
  _run([algoperf, 'leaderboard', experiments / 'wheel', '--output-dir', board,
        '--no-curves'], cwd=home)
  assert '| wheel |' in (board / 'leaderboard.md').read_text()
  assert (board / 'leaderboard.html').is_file()


def test_the_wheel_carries_no_tests_and_all_package_data(installed):
  algoperf, _ = installed
  site = pathlib.Path(_run([algoperf.parent / 'python', '-c',
                            'import algoperf, os; '
                            'print(os.path.dirname(algoperf.__file__))'],
                           cwd=algoperf.parent).strip())
  assert (site / 'submission_template' / 'submission.py').is_file()
  assert list((site / 'suites').glob('*.json'))
  assert not (site.parent / 'tests').exists()
