"""mnist: AlgoPerf's MLP workload on 5,000 real MNIST digits (CPU suite)."""

import flax.linen as nn
import jax.numpy as jnp
import numpy as np

from algoperf import base_workload
from algoperf import losses
from algoperf import spec
from workloads.mnist import dataset
from workloads.mnist import model


class MnistWorkload(base_workload.ArrayWorkload):
  """MLP (2 x 128, sigmoid) on 28x28 digits; target on validation accuracy.

  Targets (and, for a base workload, budget and step hint): set by the
  target-setting protocol, see docs/targets.md; history below.

  Formerly provisional targets and budget (the target-setting protocol replaces
  them): Adam with warmup + cosine over the step hint (batch 16, the
  AlgoPerf-style test submission) plateaus at 0.928 validation / 0.924 test
  accuracy and passes 0.92 after ~1,300 steps (~13 s of submission time on
  2 busy CPU cores); the targets sit a little below that plateau, and the
  60 s budget is ~4x the time needed.
  """

  name = 'mnist'
  target_metric_name = 'accuracy'
  metric_direction = 'max'
  validation_target_value = 0.9435
  test_target_value = 0.944
  targets_are_provisional = False
  max_allowed_runtime_sec = 2
  eval_period_time_sec = 0.1
  step_hint = 2667
  num_train_examples = 3500
  num_eval_train_examples = 750
  num_validation_examples = 750
  num_test_examples = 750
  eval_batch_size = 750
  default_batch_size = 64
  train_mean = 0.1307
  train_stddev = 0.3081
  loss_type = spec.LossType.SOFTMAX_CROSS_ENTROPY
  dataset_builder = dataset.MnistDigits
  activation = staticmethod(nn.sigmoid)
  num_hidden = 2

  def build_model(self):
    return model.MLP(activation=self.activation, num_hidden=self.num_hidden)

  def init_inputs(self):
    return model.init_inputs()

  def synthetic_arrays(self, num_examples, seed):
    rng = np.random.default_rng(seed)
    return {
      'inputs': rng.integers(0, 256, (num_examples, 28, 28), dtype=np.uint8),
      'targets': rng.integers(0, 10, num_examples),
    }

  def preprocess(self, arrays):
    images = arrays['inputs'].astype(np.float32) / 255.0
    images = (images - self.train_mean) / self.train_stddev
    return {'inputs': images, 'targets': arrays['targets']}

  def loss_fn(self, label_batch, logits_batch, mask_batch=None,
              label_smoothing=0.0):
    return losses.softmax_cross_entropy(
      label_batch, logits_batch, mask_batch, label_smoothing
    )

  def eval_metrics(self, logits, batch, mask):
    loss = self.loss_fn(batch['targets'], logits, mask)['summed']
    correct = (jnp.argmax(logits, -1) == batch['targets']) * mask
    return {'accuracy': correct.sum(), 'loss': loss}




class MnistReluWorkload(MnistWorkload):
  """Variant: ReLU instead of sigmoid hidden activations.

  Targets (and, for a base workload, budget and step hint): set by the
  target-setting protocol, see docs/targets.md; history below.

  Formerly provisional targets: the base's. Self-tuning NAdamW passed them with
  0.952 validation accuracy at the eval after 4.2 s of submission time.
  """

  name = 'mnist_relu'
  targets_are_provisional = False
  test_target_value = 0.9546
  validation_target_value = 0.9528
  base_name = 'mnist'
  activation = staticmethod(nn.relu)  # The activation is the one change.


class MnistDeepWorkload(MnistWorkload):
  """Variant: four hidden layers instead of two (depth is the one change).

  PROVISIONAL targets: self-tuning NAdamW reached exactly 0.920 validation
  accuracy (7.3 s of submission time), so the targets sit 0.005 below the
  base's to leave seed-to-seed margin.
  """

  name = 'mnist_deep'
  targets_are_provisional = False
  base_name = 'mnist'
  num_hidden = 4
  validation_target_value = 0.9013
  test_target_value = 0.8986
