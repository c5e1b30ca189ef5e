"""Training batches with random shifts: the ViT's data augmentation.

AlgoPerf's imagenet_vit trains on augmented images (random crops, flips,
RandAugment); a ViT has little built-in translation invariance, and on only
3,500 digits it memorises the training set without augmentation (about 0.87
validation accuracy instead of about 0.95). The digits' counterpart is a
random translation of each training image by up to ``max_shift`` pixels,
filled with the background value. Shifts depend only on (seed, batch
position), so the queue stays deterministic and resumable.
"""

import numpy as np

from algoperf import base_workload
from algoperf import jax_sharding_utils


def random_shifts(
  images: np.ndarray, max_shift: int, rng: np.random.Generator
) -> np.ndarray:
  """Each [H, W] image moved by up to ``max_shift`` pixels along each axis.

  Uncovered pixels take the image's minimum (the background after the
  workload's normalisation).
  """
  num, height, width = images.shape
  fill = images.min(axis=(1, 2), keepdims=True)
  padded = np.pad(images - fill, ((0, 0), (max_shift,) * 2, (max_shift,) * 2))
  rows, cols = rng.integers(0, 2 * max_shift + 1, (2, num))
  out = np.empty_like(images)
  for i in range(num):  # 64 small slices: far cheaper than a training step.
    out[i] = padded[i, rows[i] : rows[i] + height, cols[i] : cols[i] + width]
  return out + fill


class ShiftedBatches(base_workload.ShuffledBatches):
  """ShuffledBatches whose 'inputs' are randomly shifted, reproducibly."""

  def __init__(
    self,
    arrays,
    global_batch_size: int,
    seed: int,
    position=0,
    max_shift: int = 2,
  ):
    super().__init__(arrays, global_batch_size, seed, position)
    self._max_shift = max_shift

  def __next__(self):
    indices = self.indices_for(self.position)
    # A stream of its own, so shifts never correlate with the shuffling.
    rng = np.random.default_rng([self._seed, self.position, 1])
    self.position += 1
    batch = {k: v[indices] for k, v in self._arrays.items()}
    batch['inputs'] = random_shifts(batch['inputs'], self._max_shift, rng)
    return jax_sharding_utils.shard_along_batch_dim(batch)
