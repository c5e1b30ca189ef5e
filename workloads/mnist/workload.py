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

  AlgoPerf's own mnist model and name, so that AlgoPerf submissions'
  batch-size tables apply to it. Targets, budget and step hint: see
  ``algoperf/suites/cpu.json`` (set by the protocol in docs/targets.md).
  """

  name = 'mnist'
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
  """Variant: ReLU instead of sigmoid hidden activations."""

  name = 'mnist_relu'
  activation = staticmethod(nn.relu)  # The activation is the one change.


class MnistDeepWorkload(MnistWorkload):
  """Variant: four hidden layers instead of two (depth is the one change)."""

  name = 'mnist_deep'
  num_hidden = 4
