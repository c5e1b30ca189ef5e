"""TFDS builder: Fashion-MNIST's 70,000 images from a pinned Debian package.

Debian's ``dataset-fashion-mnist`` ships Zalando's files unchanged (60,000
training + 10,000 test images in idx format). The 70,000 are pooled and
re-split by a fixed-seed permutation: 30,000 train, 20,000 validation,
20,000 test. Large held-out splits are the point (issue 18): a split of n
examples measures an accuracy p with standard error sqrt(p(1-p)/n), and
the goal of at most 0.25% needs n = p(1-p)/0.0025^2 (20,000 covers any
p >= 0.855). Each workload evaluates the first ``num_validation_examples``
/ ``num_test_examples`` of a stored split (workloads/fashion/README.md).
"""

import gzip
import pathlib

import numpy as np
import tensorflow_datasets as tfds

from algoperf.data import debian
from algoperf.data import prepared
from algoperf.errors import DataError
from workloads.mnist import dataset as mnist_dataset

FASHION_DEB = debian.PinnedDeb(
  name='dataset-fashion-mnist',
  version='0.0~git20200523.55506a9-1',
  sha256='39e172fe32dd318ebb3e512220c3beea2fa47d7e20bab348fb4e0922d6beefc0',
)
DIRECTORY = '/usr/share/datasets/fashion-mnist'
# (images, labels) files, in the order their examples are numbered.
FILES = (('train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz'),
         ('t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'))
SPLIT_SEED = 20261202
SPLIT_SIZES = {'train': 30000, 'validation': 20000, 'test': 20000}
_IDX_UBYTE = 0x08  # The idx type code of unsigned bytes.


def parse_idx(raw_gz: bytes, name: str) -> np.ndarray:
  """A gzipped idx file of unsigned bytes as a uint8 array of its shape.

  Raises:
    DataError: not an idx file of unsigned bytes, or of the wrong length.
  """
  raw = gzip.decompress(raw_gz)
  if len(raw) < 4 or raw[:2] != b'\0\0' or raw[2] != _IDX_UBYTE:
    raise DataError(f'{name}: not an idx file of unsigned bytes (header '
                    f'{raw[:4].hex()}); the pinned package changed layout.')
  ndim = raw[3]
  shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], 'big')
                for i in range(ndim))
  body = raw[4 + 4 * ndim:]
  if len(body) != int(np.prod(shape)):
    raise DataError(f'{name}: {len(body)} data bytes for shape {shape}; the '
                    'file is truncated.')
  return np.frombuffer(body, np.uint8).reshape(shape)


def read_deb(deb_path: pathlib.Path) -> tuple[np.ndarray, np.ndarray]:
  """(images uint8 [N, 28, 28], labels int64 [N]) of every file, pooled."""
  paths = [f'{DIRECTORY}/{f}' for pair in FILES for f in pair]
  files = debian.read_files(deb_path, paths)
  images, labels = [], []
  for image_file, label_file in FILES:
    x = parse_idx(files[f'{DIRECTORY}/{image_file}'], image_file)
    y = parse_idx(files[f'{DIRECTORY}/{label_file}'], label_file)
    if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
      raise DataError(f'{image_file} {x.shape} and {label_file} {y.shape} do '
                      'not pair up as images and labels.')
    images.append(x)
    labels.append(y.astype(np.int64))
  return np.concatenate(images), np.concatenate(labels)


def split_indices(num: int, split_sizes=None) -> dict[str, np.ndarray]:
  return prepared.permuted_splits(num, split_sizes or SPLIT_SIZES, SPLIT_SEED)


class FashionMnistDeb(mnist_dataset.MnistDigits):
  """Fashion-MNIST, 30,000 / 20,000 / 20,000, from a pinned Debian package.

  The digits builder's features (28x28 uint8 'inputs', int64 'targets')
  and example generation; its own source and splits.
  """

  VERSION = tfds.core.Version('1.0.0')
  RELEASE_NOTES = {'1.0.0': 'dataset-fashion-mnist 0.0~git20200523.55506a9-1'
                            ', all 70,000 images, 30000/20000/20000 split.'}
  # Preparing downloads a 31 MB Debian package: the real-data contract test
  # runs in the slow set (tests/workloads/test_fashion.py builds a tiny
  # package for the fast one).
  slow_to_prepare = True
  # What to fetch and how to cut it: class attributes, so a test can
  # build from a miniature package (tests/workloads/test_fashion.py).
  deb = FASHION_DEB
  split_sizes = SPLIT_SIZES

  def _split_generators(self, dl_manager):
    deb_path = debian.fetch_pinned_deb(self.deb,
                                       pathlib.Path(dl_manager.download_dir))
    images, labels = read_deb(deb_path)
    total = sum(self.split_sizes.values())
    if len(labels) != total:
      raise DataError(f'{deb_path}: {len(labels)} images, the split sizes '
                      f'{self.split_sizes} add up to {total}.')
    return {
      split: self._generate_examples(images[idx], labels[idx], idx)
      for split, idx in split_indices(len(labels), self.split_sizes).items()
    }
