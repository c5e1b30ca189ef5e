"""imagenet_resnet: ResNet-50 on ImageNet-2012 (AlgoPerf suite), model side.

As AlgoPerf's imagenet_resnet at 2c90454: softmax cross-entropy with the
label smoothing the submission asks for, on integer labels or on dense
(e.g. mixup) label rows; eval metrics are the summed loss and the number of
correct top-1 predictions over valid rows, divided by the number of examples
(``accuracy``, the target metric; top-1 error is ``1 - accuracy``): the
base class's ``eval_metrics`` with this loss. The data
side (``dataset.py``, the input pipeline) is the platform's; the batch
format is in README.md.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from algoperf import base_workload
from algoperf import spec
from workloads.imagenet_resnet import model

NUM_CLASSES = 1000
IMAGE_SIZE = 224
# Per-channel RGB mean and std on the 0-255 scale (AlgoPerf's train_mean,
# train_stddev), applied by the input pipeline.
TRAIN_MEAN = (0.485 * 255, 0.456 * 255, 0.406 * 255)
TRAIN_STDDEV = (0.229 * 255, 0.224 * 255, 0.225 * 255)


def round_up(n: int, multiple: int) -> int:
  return -(-n // multiple) * multiple


def dense_label_cross_entropy(label_batch, logits_batch, mask_batch=None,
                              label_smoothing=0.0):
  """AlgoPerf's ImageNet loss: integer labels or [B, classes] label rows.

  Integer labels are one-hot encoded; rows of the logits' width (mixup's
  soft labels) are used as given. Both are then label-smoothed.
  """
  num_classes = logits_batch.shape[-1]
  if label_batch.ndim == logits_batch.ndim:
    labels = label_batch.astype(logits_batch.dtype)
  else:
    labels = jax.nn.one_hot(label_batch, num_classes)
  labels = optax.smooth_labels(labels, label_smoothing)
  per_example = -jnp.sum(labels * jax.nn.log_softmax(logits_batch, -1), -1)
  if mask_batch is None:
    mask_batch = jnp.ones_like(per_example)
  per_example = per_example * mask_batch
  return {'summed': per_example.sum(), 'n_valid_examples': mask_batch.sum(),
          'per_example': per_example}


class ImagenetResNetWorkload(base_workload.ArrayWorkload):
  """ResNet-50 on ImageNet-2012 224x224 crops; validation accuracy."""

  name = 'imagenet_resnet'
  num_train_examples = 1_281_167
  num_validation_examples = 50_000
  num_test_examples = 10_000  # ImageNet-v2 matched-frequency.
  eval_batch_size = 1024
  # The validation size rounded up to whole eval batches, as AlgoPerf.
  num_eval_train_examples = round_up(50_000, 1024)
  # AlgoPerf's baseline batch size (get_batch_size in its reference
  # algorithms), used when a submission names none.
  default_batch_size = 1024
  train_mean = TRAIN_MEAN
  train_stddev = TRAIN_STDDEV
  loss_type = spec.LossType.SOFTMAX_CROSS_ENTROPY
  output_layer_name = 'Dense_0'
  model_class = model.ResNet50
  model_settings = ('num_classes', 'activation', 'bn_init_scale')
  num_classes = NUM_CLASSES
  activation = staticmethod(nn.relu)
  bn_init_scale = 0.0

  # The data side's builder, imported only when data is read.
  dataset_builder = base_workload.DataSide('workloads.imagenet_resnet.dataset',
                                          'BUILDER')

  def init_inputs(self):
    return model.init_inputs(1)

  def loss_fn(self, label_batch, logits_batch, mask_batch=None,
              label_smoothing=0.0):
    return dense_label_cross_entropy(label_batch, logits_batch, mask_batch,
                                     label_smoothing)

  def synthetic_arrays(self, num_examples, seed):
    """Normalised-looking pixels (N(0, 1)) and uniform integer labels."""
    rng = np.random.default_rng(seed)
    shape = (num_examples, IMAGE_SIZE, IMAGE_SIZE, 3)
    return {
      'inputs': rng.standard_normal(shape, dtype=np.float32),
      'targets': rng.integers(0, NUM_CLASSES, num_examples).astype(np.int32),
    }


class ImagenetResNetSiLUWorkload(ImagenetResNetWorkload):
  """SiLU instead of ReLU everywhere (as AlgoPerf's use_silu)."""

  name = 'imagenet_resnet_silu'
  default_batch_size = 512  # AlgoPerf's baseline size for this variant.
  activation = staticmethod(nn.silu)


class ImagenetResNetGELUWorkload(ImagenetResNetWorkload):
  """GELU instead of ReLU everywhere (as AlgoPerf's use_gelu)."""

  name = 'imagenet_resnet_gelu'
  default_batch_size = 512  # AlgoPerf's baseline size for this variant.
  activation = staticmethod(nn.gelu)


class ImagenetResNetLargeBNScaleWorkload(ImagenetResNetWorkload):
  """Each block's last BatchNorm scale starts at 8, not 0."""

  name = 'imagenet_resnet_large_bn_init'
  bn_init_scale = 8.0
