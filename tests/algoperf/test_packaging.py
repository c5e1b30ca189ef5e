"""`algoperf package` bundles results; verification refuses tampering."""

import io
import json
import subprocess
import sys
import tarfile

import pytest

from algoperf import packaging
from algoperf import registry
from algoperf import runner
from algoperf import submission as submission_lib
from tests.conftest import FIXTURES
from tests.conftest import REPO

BASE = registry.suite().base_workloads[0]


@pytest.fixture
def experiment(tmp_path, first_base_synthetic):
  """A one-trial experiment of the sgd fixture (the suite's first base,
  synthetic data)."""
  config = runner.RunConfig(experiment_dir=str(tmp_path / 'exp'),
                            experiment_name='sgd_try', max_steps=2,
                            progress=False)
  runner.run_trial(first_base_synthetic,
                   submission_lib.load_submission(FIXTURES / 'sgd'), config)
  return tmp_path / 'exp'


def _rewrite(package, out, change):
  """Copies a package, letting ``change(contents)`` edit {name: bytes}."""
  with tarfile.open(package, 'r:gz') as tar:
    contents = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
  change(contents)
  with tarfile.open(out, 'w:gz') as tar:
    for name, data in contents.items():
      entry = tarfile.TarInfo(name)
      entry.size = len(data)
      tar.addfile(entry, io.BytesIO(data))
  return out


def test_package_holds_logs_source_and_manifest(experiment, tmp_path):
  package = tmp_path / 'results.tar.gz'
  info = packaging.create_package(experiment, package)
  contents = packaging.read_verified(package)
  names = set(contents)
  assert info['experiments'] == ['sgd_try']
  assert info['submissions'] == {str(FIXTURES / 'sgd'): 'sgd'}
  assert 'submission/sgd/submission.py' in names
  trial = f'logs/sgd_try/study_0/{BASE}_jax/trial_1/'
  assert {trial + n for n in ('eval_measurements.csv', 'status.json',
                              'flags_0.json', 'meta_data_0.json')} <= names
  assert packaging.INFO in names
  assert contents['submission/sgd/submission.py'] == (
    FIXTURES / 'sgd' / 'submission.py').read_bytes()


@pytest.mark.parametrize('tamper, message', [
  (lambda c: c.update({
    f'logs/sgd_try/study_0/{BASE}_jax/trial_1/eval_measurements.csv':
    b'score,global_step\n0.1,1\n'}), 'changed: logs/sgd_try'),
  (lambda c: c.pop('submission/sgd/submission.py'), 'missing: submission/'),
  (lambda c: c.update({'logs/sgd_try/extra.csv': b'x'}),
   'not in the manifest: logs/sgd_try/extra.csv'),
  (lambda c: c.pop(packaging.MANIFEST), 'no MANIFEST.sha256'),
])
def test_tampered_package_is_refused(experiment, tmp_path, tamper, message):
  package = tmp_path / 'results.tar.gz'
  packaging.create_package(experiment, package)
  bad = _rewrite(package, tmp_path / 'bad.tar.gz', tamper)
  with pytest.raises(packaging.PackageError, match=message):
    packaging.read_verified(bad)


def test_unsafe_paths_are_refused(experiment, tmp_path):
  package = tmp_path / 'results.tar.gz'
  packaging.create_package(experiment, package)
  bad = _rewrite(package, tmp_path / 'bad.tar.gz',
                 lambda c: c.update({'../escape.txt': b'x'}))
  with pytest.raises(packaging.PackageError, match='unsafe entry'):
    packaging.read_verified(bad)


def test_missing_submission_source_names_the_fix(experiment, tmp_path):
  flags = next(experiment.glob('*/study_0/*/trial_1/flags_0.json'))
  data = json.loads(flags.read_text())
  data['submission_path'] = str(tmp_path / 'gone' / 'submission.py')
  flags.write_text(json.dumps(data))
  with pytest.raises(packaging.PackageError, match='--submission DIR'):
    packaging.create_package(experiment, tmp_path / 'out.tar.gz')
  info = packaging.create_package(experiment, tmp_path / 'out.tar.gz',
                                  [FIXTURES / 'sgd'])
  assert list(info['submissions'].values()) == ['sgd']


def _algoperf(*args):
  return subprocess.run([sys.executable, '-m', 'algoperf.cli',
                         *map(str, args)], capture_output=True, text=True,
                        cwd=REPO, timeout=300, check=False)


def test_package_then_score_and_refuse_a_tampered_package(experiment,
                                                          tmp_path):
  package = tmp_path / 'results.tar.gz'
  made = _algoperf('package', experiment, '-o', package)
  assert made.returncode == 0, made.stderr
  assert 'sha256' in made.stdout
  scored = _algoperf('score', package, '--workload-targets', 'cpu_suite',
                     '--no-plots', '--output-dir', tmp_path / 'scores')
  assert scored.returncode == 0, scored.stdout + scored.stderr
  assert (tmp_path / 'scores' / 'scores.csv').exists()
  bad = _rewrite(package, tmp_path / 'bad.tar.gz', lambda c: c.update({
    f'logs/sgd_try/study_0/{BASE}_jax/trial_1/eval_measurements.csv': b''}))
  refused = _algoperf('score', bad, '--workload-targets', 'cpu_suite',
                      '--output-dir', tmp_path / 'scores2')
  assert refused.returncode == 1
  assert 'checksum verification failed' in refused.stderr
  assert not (tmp_path / 'scores2' / 'scores.csv').exists()


def test_verification_does_not_import_jax(experiment, tmp_path):
  package = tmp_path / 'results.tar.gz'
  packaging.create_package(experiment, package)
  code = ('import sys; from algoperf import packaging; '
          f'packaging.read_verified({str(package)!r}); '
          "print(sorted(m for m in ('jax', 'jaxlib') if m in sys.modules))")
  proc = subprocess.run([sys.executable, '-c', code], capture_output=True,
                        text=True, cwd=REPO, timeout=60, check=False)
  assert proc.stdout.strip() == '[]', proc.stderr
