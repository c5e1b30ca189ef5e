"""phantom_unet: U-Net reconstruction from 4x-undersampled k-space (CPU suite).

Mirrors AlgoPerf's fastmri: the input is the zero-filled magnitude image,
instance-normalised (its own mean and std, clipped to +-6) as fastMRI's
pipeline does; the target is the phantom normalised with the same mean and
std; the loss is L1; the metric is SSIM on the de-normalised images with the
target's maximum as data range, averaged over examples.
"""

import jax.numpy as jnp
import numpy as np

from algoperf import base_workload
from algoperf import spec
from workloads.phantom_unet import dataset
from workloads.phantom_unet import model
from workloads.phantom_unet import phantoms
from workloads.phantom_unet import ssim

CLIP = 6.0  # fastMRI's clip of normalised images.


class PhantomUnetWorkload(base_workload.ArrayWorkload):
  """U-Net (8 channels, 3 pools, 120k params) on 32x32 ellipse phantoms.

  fastmri's reconstruction task (a U-Net restoring images from 4x
  undersampled k-space, scored by SSIM) on generated phantoms small enough
  for 2 CPU cores.
  """

  name = 'phantom_unet'
  num_train_examples = dataset.SPLIT_SIZES['train']
  # The first 256 of each evaluation split (data 1.0.0's, what cpu-0.3
  # evaluates); a suite version that needs more states it
  # (validation_examples, test_examples).
  num_eval_train_examples = dataset.FIRST_SIZES['validation']
  num_validation_examples = dataset.FIRST_SIZES['validation']
  num_test_examples = dataset.FIRST_SIZES['test']
  eval_batch_size = 256
  default_batch_size = 32
  loss_type = spec.LossType.MEAN_ABSOLUTE_ERROR
  dataset_builder = dataset.EllipsePhantoms
  input_keys = ('inputs', 'targets', 'mean', 'std', 'volume_max')
  output_layer_name = 'Conv_out'
  # Model settings, overridden one at a time by the variants.
  model_class = model.UNet
  model_settings = ('num_channels', 'num_pool_layers', 'use_tanh',
                    'use_layer_norm')
  num_channels = 8
  num_pool_layers = 3
  use_tanh = False
  use_layer_norm = False

  def init_inputs(self):
    return model.init_inputs(phantoms.IMAGE_SIZE)

  def synthetic_arrays(self, num_examples, seed):
    rng = np.random.default_rng(seed)
    shape = (num_examples, phantoms.IMAGE_SIZE, phantoms.IMAGE_SIZE)
    return {
      'inputs': rng.uniform(0.0, 1.0, shape).astype(np.float32),
      'targets': rng.uniform(0.0, 1.0, shape).astype(np.float32),
    }

  def preprocess(self, arrays):
    """fastMRI's normalize_instance: per-example input mean/std, clip 6."""
    inputs = arrays['inputs'].astype(np.float32)
    targets = arrays['targets'].astype(np.float32)
    mean = inputs.mean(axis=(1, 2))
    std = inputs.std(axis=(1, 2))
    std = np.where(std > 0, std, 1.0).astype(np.float32)
    def scale(x):
      return np.clip((x - mean[:, None, None]) / std[:, None, None],
                     -CLIP, CLIP).astype(np.float32)

    return {
      'inputs': scale(inputs),
      'targets': scale(targets),
      'mean': mean.astype(np.float32),
      'std': std,
      'volume_max': targets.max(axis=(1, 2)).astype(np.float32),
    }

  def eval_metrics(self, logits, batch, mask):
    per_example = ssim.ssim(
      logits,
      batch['targets'],
      batch['mean'],
      batch['std'],
      batch['volume_max'],
    )
    loss = self.loss_fn(batch['targets'], logits, mask)['summed']
    return {'ssim': jnp.sum(per_example * mask), 'loss': loss}


class PhantomUnetTanhWorkload(PhantomUnetWorkload):
  """tanh instead of leaky ReLU (as fastmri_tanh)."""

  name = 'phantom_unet_tanh'
  use_tanh = True  # Saturating activation: does the advantage survive?


class PhantomUnetLayerNormWorkload(PhantomUnetWorkload):
  """LayerNorm, not instance norm, in the conv blocks (fastmri_layernorm)."""

  name = 'phantom_unet_layernorm'
  use_layer_norm = True  # Learned per-example norm over H, W and channels.


class PhantomUnetModelSizeWorkload(PhantomUnetWorkload):
  """One pooling level fewer, twice the channels (as fastmri_model_size).

  A step costs about 2.2x the base's (the full-resolution convolutions are
  twice as wide), which is why this variant has a budget of its own.
  """

  name = 'phantom_unet_model_size'
  num_channels = 16  # Wider and shallower, about the same parameter count.
  num_pool_layers = 2
