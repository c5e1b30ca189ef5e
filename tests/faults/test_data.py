"""Prepared data that checks itself (issue 16, item 8): a manifest of
sizes and hashes; every corruption is a DataError naming the repair,
`algoperf data prepare NAME --force`, which repairs."""

import json
import pathlib

import pytest

from algoperf import cli
from algoperf import exit_codes
from algoperf import registry
from algoperf.data import manifest
from algoperf.data import prepared
from algoperf.errors import DataError

BUILDER = registry.get_workload_class('mnist').dataset_builder


def _dir(data) -> pathlib.Path:
  return next(data.glob(f'{BUILDER.name}/*/'))


def _file(data, split) -> pathlib.Path:
  return next(_dir(data).glob(f'*-{split}.array_record*'))


def _flip(data):
  path = _file(data, 'validation')
  raw = bytearray(path.read_bytes())
  raw[len(raw) // 2:len(raw) // 2 + 64] = bytes(64)
  path.write_bytes(bytes(raw))


def _truncate(split):
  def mutate(data):
    path = _file(data, split)
    path.write_bytes(path.read_bytes()[:1000])
  return mutate


def _append(data):
  with open(_file(data, 'train'), 'ab') as f:
    f.write(b'tail')


def _delete(name):
  def mutate(data):
    (_dir(data) / name).unlink() if '*' not in name else next(
      _dir(data).glob(name)).unlink()
  return mutate


def _write(name, text):
  def mutate(data):
    (_dir(data) / name).write_text(text)
  return mutate


def _empty(data):
  _file(data, 'test').write_bytes(b'')


# case -> (mutation, check, fragment): 'load' reads the validation split,
# 'verify' runs `algoperf data verify`, 'prepare' `algoperf data prepare`.
CASES = {
  'bytes_zeroed_in_validation': (_flip, 'verify', 'differs from its'),
  'validation_truncated': (_truncate('validation'), 'load', 'bytes, the '
                           'manifest says'),
  'train_grown': (_append, 'verify', 'bytes, the manifest says'),
  'test_file_deleted': (_delete('*-test.array_record*'), 'load',
                        'is missing'),
  'test_file_empty': (_empty, 'load', 'bytes, the manifest says'),
  'extra_file': (_write('stray.bin', 'x'), 'verify', 'not in the manifest'),
  'manifest_garbage': (_write(manifest.FILE, '{'), 'load', 'unreadable'),
  'manifest_wrong_shape': (_write(manifest.FILE, '[]'), 'load',
                           'unreadable'),
  'dataset_info_garbage': (_write('dataset_info.json', '{'), 'load',
                           'cannot be opened'),
  'dataset_info_deleted': (_delete('dataset_info.json'), 'load',
                           'No prepared data'),
  'features_deleted': (_delete('features.json'), 'verify', 'is missing'),
  'prepare_on_corrupted_copy': (_flip, 'prepare', 'differs from its'),
}


@pytest.mark.parametrize('case', sorted(CASES))
def test_corrupted_data_names_the_repair(case, mnist_copy, capsys):
  mutate, check, fragment = CASES[case]
  mutate(mnist_copy)
  if check == 'load':
    with pytest.raises(DataError) as raised:
      prepared.load_split(BUILDER, 'validation', mnist_copy, 'mnist')
    text = str(raised.value)
    if case != 'dataset_info_deleted':
      assert 'algoperf data prepare mnist --force' in text
  else:
    code = cli.main(['data', check, 'mnist', '--data-dir', str(mnist_copy)])
    assert code == exit_codes.INPUT
    text = capsys.readouterr().err
    assert 'algoperf data prepare mnist --force' in text
    assert 'already prepared' not in text
  assert fragment in text


def test_force_repairs_what_verify_found(mnist_copy, capsys):
  _flip(mnist_copy)
  assert cli.main(['data', 'prepare', 'mnist', '--force', '--data-dir',
                   str(mnist_copy)]) == exit_codes.OK
  assert cli.main(['data', 'verify', 'mnist', '--data-dir',
                   str(mnist_copy)]) == exit_codes.OK
  assert prepared.load_split(BUILDER, 'validation', mnist_copy,
                             'mnist')['targets'].shape[0] > 0
  capsys.readouterr()


def test_data_prepared_before_manifests_loads_then_is_adopted(mnist_copy,
                                                             capsys):
  (_dir(mnist_copy) / manifest.FILE).unlink()
  arrays = prepared.load_split(BUILDER, 'train', mnist_copy, 'mnist')
  assert len(next(iter(arrays.values()))) > 0  # Loads (with a warning).
  assert cli.main(['data', 'prepare', 'mnist', '--data-dir',
                   str(mnist_copy)]) == exit_codes.OK
  files = json.loads((_dir(mnist_copy) / manifest.FILE).read_text())['files']
  assert any('-train.' in name for name in files)
  capsys.readouterr()
