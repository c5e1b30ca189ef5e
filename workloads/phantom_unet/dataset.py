"""TFDS builder: generated ellipse phantoms and their undersampled inputs.

Nothing is downloaded: ``phantoms.make_example(i)`` generates example ``i``
from fixed seeds, so preparing again (here or on another machine with the
same numpy) gives the same data. Splits are fixed ranges of example
indices (train first, then validation, then test), stored in index order.
"""

from typing import ClassVar

import numpy as np
import tensorflow_datasets as tfds

from workloads.phantom_unet import phantoms

SPLIT_SIZES = {'train': 4096, 'validation': 256, 'test': 256}


def split_ranges(split_sizes: dict[str, int]) -> dict[str, range]:
  """Consecutive index ranges, one per split, in ``split_sizes`` order."""
  out, start = {}, 0
  for split, size in split_sizes.items():
    out[split] = range(start, start + size)
    start += size
  return out


class EllipsePhantoms(tfds.core.GeneratorBasedBuilder):
  """Ellipse phantoms with 4x-undersampled zero-filled reconstructions."""

  VERSION = tfds.core.Version('1.0.0')
  RELEASE_NOTES: ClassVar = {
    '1.0.0': (
      f'32x32 phantoms, seeds {phantoms.GENERATOR_SEED}/'
      f'{phantoms.MASK_SEED}, 4x Cartesian masks, 4096/256/256 split.'
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
      for split, indices in split_ranges(self.SPLIT_SIZES).items()
    }

  def _generate_examples(self, indices):
    for index in indices:
      yield index, phantoms.make_example(index)
