"""The Fashion-MNIST families' data side: the Debian package path
(algoperf/data/debian.py) and the builder, on a miniature .deb built here.

The miniature has the real package's layout (an ar archive holding
debian-binary, control.tar.xz and data.tar.xz with gzipped idx files under
/usr/share/datasets/fashion-mnist/), 10 training and 6 test images. Where
apt-get would be run, PATH holds either no apt-get or a stand-in script
(tests never touch the network); what is under test -- verification,
re-fetch, unpacking, errors, the builder -- is the real code. What every
workload must do (train, evaluate, prepare the real data) is checked by
tests/contract/test_workloads.py.
"""

import dataclasses
import gzip
import io
import pathlib
import stat
import tarfile

import numpy as np
import pytest

from algoperf import registry
from algoperf.data import debian
from algoperf.data import packages
from algoperf.data import prepared
from algoperf.errors import DataError
from algoperf.target_setting import protocol
from workloads.fashion import dataset

NUM_TRAIN, NUM_T10K = 10, 6


def _idx(array: np.ndarray) -> bytes:
  header = bytes([0, 0, 0x08, array.ndim]) + b''.join(
    n.to_bytes(4, 'big') for n in array.shape)
  return gzip.compress(header + array.astype(np.uint8).tobytes())


def _tar_xz(files: dict) -> bytes:
  out = io.BytesIO()
  with tarfile.open(fileobj=out, mode='w:xz') as tar:
    for name, data in files.items():
      info = tarfile.TarInfo(name)
      info.size = len(data)
      tar.addfile(info, io.BytesIO(data))
  return out.getvalue()


def _ar(members: dict) -> bytes:
  out = [b'!<arch>\n']
  for name, data in members.items():
    header = (f'{name:<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(data):<10}'
              .encode() + b'`\n')
    out += [header, data, b'\n' * (len(data) % 2)]
  return b''.join(out)


def _images(num: int, offset: int) -> tuple[np.ndarray, np.ndarray]:
  """Image i is filled with the value offset + i: findable by content."""
  values = np.arange(offset, offset + num)
  return (np.broadcast_to(values[:, None, None], (num, 28, 28)),
          values % 10)


def tiny_deb(path: pathlib.Path, drop: str | None = None) -> debian.PinnedDeb:
  """Writes a miniature dataset-fashion-mnist .deb; its pin."""
  files = {}
  for (image_file, label_file), (num, offset) in zip(
      dataset.FILES, ((NUM_TRAIN, 0), (NUM_T10K, NUM_TRAIN))):
    images, labels = _images(num, offset)
    files[f'.{dataset.DIRECTORY}/{image_file}'] = _idx(images)
    files[f'.{dataset.DIRECTORY}/{label_file}'] = _idx(labels)
  files.pop(f'.{dataset.DIRECTORY}/{drop}', None)
  path.write_bytes(_ar({'debian-binary': b'2.0\n',
                        'control.tar.xz': _tar_xz({'./control': b'x\n'}),
                        'data.tar.xz': _tar_xz(files)}))
  return debian.PinnedDeb(name='tiny-fashion', version='1:0.1-1',
                          sha256=packages.sha256_of(path))


@pytest.fixture
def downloads(tmp_path):
  return tmp_path / 'downloads'


@pytest.fixture
def no_apt(monkeypatch, tmp_path):
  """A PATH on which apt-get does not exist."""
  empty = tmp_path / 'empty_bin'
  empty.mkdir()
  monkeypatch.setenv('PATH', str(empty))


def _stand_in_apt(monkeypatch, tmp_path, script: str) -> None:
  """A PATH whose apt-get is ``script`` (a mirror's answers); the
  system's tools (cp, echo) after it."""
  bin_dir = tmp_path / 'apt_bin'
  bin_dir.mkdir()
  apt = bin_dir / 'apt-get'
  apt.write_text('#!/bin/sh\n' + script)
  apt.chmod(apt.stat().st_mode | stat.S_IEXEC)
  monkeypatch.setenv('PATH', f'{bin_dir}:/usr/bin:/bin')


def test_deb_filename_is_apts_own_with_the_epoch_escaped():
  pin = debian.PinnedDeb('dataset-fashion-mnist', '1:0.0~git-1', 'ab')
  assert pin.filename == 'dataset-fashion-mnist_1%3a0.0~git-1_all.deb'
  assert dataset.FASHION_DEB.filename == (
    'dataset-fashion-mnist_0.0~git20200523.55506a9-1_all.deb')


def test_a_placed_deb_is_verified_and_its_files_read(downloads, tmp_path,
                                                     no_apt):
  pin = tiny_deb(tmp_path / 'tiny.deb')
  downloads.mkdir()
  (tmp_path / 'tiny.deb').rename(downloads / pin.filename)
  path = debian.fetch_pinned_deb(pin, downloads)  # No apt-get needed.
  images, labels = dataset.read_deb(path)
  assert images.shape == (NUM_TRAIN + NUM_T10K, 28, 28)
  assert images.dtype == np.uint8 and labels.dtype == np.int64
  # Training file first, then t10k, each in file order.
  np.testing.assert_array_equal(images[:, 0, 0], np.arange(16))
  np.testing.assert_array_equal(labels, np.arange(16) % 10)


def test_without_apt_the_error_says_where_to_place_the_file(downloads,
                                                            tmp_path, no_apt):
  pin = dataclasses.replace(dataset.FASHION_DEB)
  with pytest.raises(DataError, match='apt-get is not installed') as e:
    debian.fetch_pinned_deb(pin, downloads)
  assert pin.filename in str(e.value) and str(downloads) in str(e.value)


def test_a_failed_download_is_a_data_error_with_aptss_message(
    downloads, monkeypatch, tmp_path):
  _stand_in_apt(monkeypatch, tmp_path,
                'echo "E: Unable to locate package $3" >&2\nexit 100\n')
  with pytest.raises(DataError, match='Unable to locate package') as e:
    debian.fetch_pinned_deb(dataset.FASHION_DEB, downloads)
  assert 'apt-get update' in str(e.value)
  assert not list(downloads.glob('*.deb'))


def test_a_corrupted_deb_is_fetched_again(downloads, monkeypatch, tmp_path):
  pin = tiny_deb(tmp_path / 'good.deb')
  downloads.mkdir()
  (downloads / pin.filename).write_bytes(b'a partial download')
  # The stand-in mirror serves the pinned file.
  _stand_in_apt(monkeypatch, tmp_path,
                f'cp {tmp_path / "good.deb"} "$PWD/{pin.filename}"\n')
  path = debian.fetch_pinned_deb(pin, downloads)
  assert packages.sha256_of(path) == pin.sha256


def test_a_checksum_mismatch_after_the_refetch_names_both_digests(
    downloads, monkeypatch, tmp_path):
  pin = tiny_deb(tmp_path / 'good.deb')
  # The stand-in mirror serves a different file under the pinned name.
  _stand_in_apt(monkeypatch, tmp_path,
                f'echo other > "$PWD/{pin.filename}"\n')
  with pytest.raises(DataError, match='does not match the pinned') as e:
    debian.fetch_pinned_deb(pin, downloads)
  assert pin.sha256 in str(e.value)
  assert packages.sha256_of(downloads / pin.filename) in str(e.value)


def test_a_missing_member_is_named(tmp_path):
  tiny_deb(tmp_path / 'tiny.deb', drop='t10k-labels-idx1-ubyte.gz')
  with pytest.raises(DataError, match='t10k-labels-idx1-ubyte.gz'):
    dataset.read_deb(tmp_path / 'tiny.deb')


def test_a_deb_without_a_data_member_or_ar_header_is_named(tmp_path):
  no_data = tmp_path / 'no_data.deb'
  no_data.write_bytes(_ar({'debian-binary': b'2.0\n'}))
  with pytest.raises(DataError, match='no data member'):
    debian.read_files(no_data, ['/x'])
  not_ar = tmp_path / 'not_ar.deb'
  not_ar.write_bytes(b'<html>a proxy error page</html>')
  with pytest.raises(DataError, match='not a Debian package'):
    debian.read_files(not_ar, ['/x'])
  truncated = tmp_path / 'truncated.deb'
  truncated.write_bytes(no_data.read_bytes()[:-3])
  with pytest.raises(DataError, match='truncated'):
    debian.read_files(truncated, ['/x'])


def test_the_builder_splits_the_pooled_images_disjointly(tmp_path, no_apt):
  pin = tiny_deb(tmp_path / 'tiny.deb')
  sizes = {'train': 8, 'validation': 5, 'test': 3}

  class TinyFashionMnistDeb(dataset.FashionMnistDeb):
    deb = pin
    split_sizes = sizes

  data_dir = tmp_path / 'data'
  downloads = data_dir / 'downloads'
  downloads.mkdir(parents=True)
  (tmp_path / 'tiny.deb').rename(downloads / pin.filename)
  builder = prepared.prepare(TinyFashionMnistDeb, data_dir)
  assert {k: v.num_examples for k, v in builder.info.splits.items()} == sizes
  seen = []
  for split, size in sizes.items():
    arrays = prepared.load_split(TinyFashionMnistDeb, split, data_dir, 'tiny')
    assert arrays['inputs'].shape == (size, 28, 28)
    assert arrays['inputs'].dtype == np.uint8
    assert arrays['targets'].dtype == np.int64
    source = arrays['inputs'][:, 0, 0].astype(int)
    np.testing.assert_array_equal(arrays['targets'], source % 10)
    seen += list(source)
  assert sorted(seen) == list(range(16)), 'splits overlap or drop images'
  expected = dataset.split_indices(16, sizes)
  stored = prepared.load_split(TinyFashionMnistDeb, 'validation', data_dir,
                               'tiny')
  assert sorted(stored['inputs'][:, 0, 0]) == list(expected['validation'])


def test_pooled_images_that_do_not_add_up_to_the_splits_are_named(
    tmp_path, no_apt):
  pin = tiny_deb(tmp_path / 'tiny.deb')

  class MisfitFashionMnistDeb(dataset.FashionMnistDeb):
    deb = pin

  downloads = tmp_path / 'data' / 'downloads'
  downloads.mkdir(parents=True)
  (tmp_path / 'tiny.deb').rename(downloads / pin.filename)
  with pytest.raises(DataError, match='16 images'):
    prepared.prepare(MisfitFashionMnistDeb, tmp_path / 'data')


@pytest.mark.parametrize('name', [
  'fashion_mlp', 'fashion_resnet',
  # Known gap of cpu-0.3's provisional target (workloads/fashion/README.md):
  # over a 45-75 s horizon the ViT reaches about 0.835, where a split needs
  # about 22,600 images. cpu-1.0 trains it over 3,600 steps to resolve it.
  pytest.param('fashion_vit', marks=pytest.mark.xfail(
    protocol.CURRENT == 'cpu-0.3', strict=True,
    reason='target 0.83 needs 22,576 images; 20,000 stored'))])
def test_each_family_evaluates_enough_images_to_resolve_its_targets(name):
  """SE of accuracy p on n images: sqrt(p(1-p)/n) <= 0.25% (issue 18),
  at the family's provisional targets, within the stored splits."""
  workload = registry.make_workload(name)
  for split in ('validation', 'test'):
    n = getattr(workload, f'num_{split}_examples')
    p = getattr(workload, f'{split}_target_value')
    assert n <= dataset.SPLIT_SIZES[split]
    assert np.sqrt(p * (1 - p) / n) <= 0.0025, (
      f'{name}: {n} {split} images give an SE of '
      f'{100 * np.sqrt(p * (1 - p) / n):.3f}% at its target {p}; it needs '
      f'{int(np.ceil(p * (1 - p) / 0.0025**2))}')
  assert sum(dataset.SPLIT_SIZES.values()) == 70000
