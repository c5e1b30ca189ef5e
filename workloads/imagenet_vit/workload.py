"""imagenet_vit: ViT-S/16 on ImageNet-2012 (AlgoPerf suite), model side.

As AlgoPerf's imagenet_vit at 2c90454: imagenet_resnet's splits, loss
(label smoothing; integer or mixup label rows) and metrics, with the ViT
model, no model state, eval batches of 2048 and the data side's mixup and
RandAugment on training batches (README.md).
"""

from algoperf import base_workload
from workloads.imagenet_resnet import workload as resnet_workload
from workloads.imagenet_vit import model


class ImagenetVitWorkload(resnet_workload.ImagenetResNetWorkload):
  """ViT-S/16 (22.1M parameters) on ImageNet; validation accuracy."""

  name = 'imagenet_vit'
  eval_batch_size = 2048
  num_eval_train_examples = resnet_workload.round_up(50_000, 2048)
  default_batch_size = 1024  # AlgoPerf's baseline size.
  output_layer_name = 'head'
  model_class = model.ViT
  model_settings = ('num_classes', 'use_glu', 'use_post_layer_norm',
                    'use_map')
  use_glu = False
  use_post_layer_norm = False
  use_map = False

  # The data side's builder, imported only when data is read.
  dataset_builder = base_workload.DataSide('workloads.imagenet_vit.dataset',
                                          'BUILDER')

  def init_inputs(self):
    return model.init_inputs(1)


class ImagenetVitGluWorkload(ImagenetVitWorkload):
  """Gated MLP blocks (as AlgoPerf's use_glu)."""

  name = 'imagenet_vit_glu'
  use_glu = True


class ImagenetVitPostLNWorkload(ImagenetVitWorkload):
  """LayerNorm after each residual sum (as AlgoPerf's use_post_layer_norm).

  AlgoPerf's own JAX model cannot be initialised with this flag at 2c90454
  (README.md); this is the model its code and its PyTorch twin describe.
  """

  name = 'imagenet_vit_post_ln'
  use_post_layer_norm = True


class ImagenetVitMapWorkload(ImagenetVitWorkload):
  """Multihead attention pooling instead of the token mean (use_map)."""

  name = 'imagenet_vit_map'
  use_map = True
