"""TFDS builder: generated ellipse phantoms and their undersampled inputs.

Nothing is downloaded: ``phantoms.make_example(i)`` generates example ``i``
from fixed seeds, so preparing again (here or on another machine with the
same numpy) gives the same data. Splits are fixed ranges of example
indices, stored in index order: train first, then validation, then test
(version 1.0.0's 4096/256/256), and since 1.1.0 each evaluation split
continues with a range of its own far above (``EXTRA_STARTS``), so a split
grows without changing any example it had: the first 256 validation and
test examples are 1.0.0's, which the cpu-0.3 suite evaluates.
"""

from typing import ClassVar

import numpy as np
import tensorflow_datasets as tfds

from workloads.phantom_unet import phantoms

# Version 1.0.0's splits: consecutive index ranges.
FIRST_SIZES = {'train': 4096, 'validation': 256, 'test': 256}
# Where each evaluation split continues (1.1.0), and by how many examples.
EXTRA_STARTS = {'validation': 10_000_000, 'test': 20_000_000}
EXTRA_SIZES = {'validation': 256, 'test': 256}
SPLIT_SIZES = {split: size + EXTRA_SIZES.get(split, 0)
               for split, size in FIRST_SIZES.items()}


def split_ranges(split_sizes: dict[str, int]) -> dict[str, range]:
  """Consecutive index ranges, one per split, in ``split_sizes`` order."""
  out, start = {}, 0
  for split, size in split_sizes.items():
    out[split] = range(start, start + size)
    start += size
  return out


def split_indices() -> dict[str, list[int]]:
  """Every split's example indices, in stored order."""
  indices = {split: list(r) for split, r in split_ranges(FIRST_SIZES).items()}
  for split, start in EXTRA_STARTS.items():
    indices[split] += range(start, start + EXTRA_SIZES[split])
  return indices


class EllipsePhantoms(tfds.core.GeneratorBasedBuilder):
  """Ellipse phantoms with 4x-undersampled zero-filled reconstructions."""

  VERSION = tfds.core.Version('1.1.0')
  RELEASE_NOTES: ClassVar = {
    '1.0.0': (
      f'32x32 phantoms, seeds {phantoms.GENERATOR_SEED}/'
      f'{phantoms.MASK_SEED}, 4x Cartesian masks, 4096/256/256 split.'
    ),
    '1.1.0': (
      'Validation and test grow to 512 each: 1.0.0\'s 256 first, then '
      'indices from 10,000,000 (validation) and 20,000,000 (test), so '
      'larger evaluations resolve SSIM targets to 0.25% (issue 18).'
    ),
  }
  SPLIT_SIZES: ClassVar = SPLIT_SIZES

  def _info(self):
    shape = (phantoms.IMAGE_SIZE, phantoms.IMAGE_SIZE)
    return tfds.core.DatasetInfo(
      builder=self,
      description=__doc__,
      features=tfds.features.FeaturesDict(
        {
          'inputs': tfds.features.Tensor(shape=shape, dtype=np.float32),
          'targets': tfds.features.Tensor(shape=shape, dtype=np.float32),
        }
      ),
      disable_shuffling=True,  # Keep index order: row k is example start+k.
    )

  def _split_generators(self, dl_manager):
    del dl_manager  # Generated data: nothing to download.
    return {
      split: self._generate_examples(indices)
      for split, indices in split_indices().items()
    }

  def _generate_examples(self, indices):
    for index in indices:
      yield index, phantoms.make_example(index)
