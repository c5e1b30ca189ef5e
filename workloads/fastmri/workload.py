"""fastmri: U-Net on fastMRI knee single-coil (AlgoPerf suite), model side.

As AlgoPerf's fastmri at 2c90454: L1 loss (mean over pixels per example, no
label smoothing); eval metrics are the summed loss and the summed per-example
SSIM over valid rows, divided by the number of examples. SSIM is computed on
de-normalised images (``x * std + mean``) with each slice's ``volume_max``
as data range (0, a padded row's, becomes 1): workloads/phantom_unet/ssim.py,
the same computation as AlgoPerf's fastmri_jax/ssim.py. The data side is the
platform's; the batch format is in README.md.
"""

import jax.numpy as jnp
import numpy as np

from algoperf import base_workload
from algoperf import spec
from workloads.fastmri import model
from workloads.phantom_unet import ssim

IMAGE_SIZE = 320  # reconstruction_esc slices are 320x320.
CLIP = 6.0  # The input pipeline clips normalised images to +-6.


class FastMRIWorkload(base_workload.ArrayWorkload):
  """U-Net (32 channels, 4 pooling levels, 7.76M parameters); SSIM."""

  name = 'fastmri'
  num_train_examples = 34_742
  num_validation_examples = 3_554
  num_test_examples = 3_581
  eval_batch_size = 256
  # The validation size rounded up to whole eval batches, as AlgoPerf.
  num_eval_train_examples = -(-3_554 // 256) * 256
  default_batch_size = 32  # AlgoPerf's baseline size (get_batch_size).
  loss_type = spec.LossType.MEAN_ABSOLUTE_ERROR
  input_keys = ('inputs', 'targets', 'mean', 'std', 'volume_max')
  output_layer_name = 'Conv_0'
  model_class = model.UNet
  model_settings = ('num_channels', 'num_pool_layers', 'use_tanh',
                    'use_layer_norm')
  num_channels = 32
  num_pool_layers = 4
  use_tanh = False
  use_layer_norm = False

  # The data side's builder, imported only when data is read.
  dataset_builder = base_workload.DataSide('workloads.fastmri.dataset',
                                          'BUILDER')

  def init_inputs(self):
    # AlgoPerf initialises on 13 slices; a single one gives the same tree.
    return model.init_inputs(1)

  def eval_metrics(self, logits, batch, mask):
    per_example = ssim.ssim(logits, batch['targets'], batch['mean'],
                            batch['std'], batch['volume_max'])
    return {
      'ssim': jnp.sum(per_example * mask),
      'loss': self.loss_fn(batch['targets'], logits, mask)['summed'],
    }

  def synthetic_arrays(self, num_examples, seed):
    """Batches in the model-side format: normalised, clipped images.

    Each target is a random non-negative image; the input is it plus noise,
    both normalised with the input's own mean and std, as the pipeline does.
    """
    rng = np.random.default_rng(seed)
    shape = (num_examples, IMAGE_SIZE, IMAGE_SIZE)
    targets = np.abs(rng.standard_normal(shape)).astype(np.float32) * 1e-4
    inputs = targets + np.abs(rng.standard_normal(shape)).astype(
      np.float32) * 2e-5
    mean = inputs.mean(axis=(1, 2))
    std = inputs.std(axis=(1, 2))
    def normalise(x):
      return np.clip((x - mean[:, None, None]) / std[:, None, None],
                     -CLIP, CLIP).astype(np.float32)

    return {
      'inputs': normalise(inputs),
      'targets': normalise(targets),
      'mean': mean.astype(np.float32),
      'std': std.astype(np.float32),
      'volume_max': targets.max(axis=(1, 2)).astype(np.float32),
    }


class FastMRIModelSizeWorkload(FastMRIWorkload):
  """64 channels and 3 pooling levels (7.69M parameters)."""

  name = 'fastmri_model_size'
  num_channels = 64
  num_pool_layers = 3


class FastMRITanhWorkload(FastMRIWorkload):
  """tanh instead of leaky ReLU (as AlgoPerf's use_tanh)."""

  name = 'fastmri_tanh'
  use_tanh = True


class FastMRILayerNormWorkload(FastMRIWorkload):
  """LayerNorm instead of instance norm in the conv blocks."""

  name = 'fastmri_layernorm'
  use_layer_norm = True
