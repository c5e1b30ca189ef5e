"""mnist: AlgoPerf's MLP workload on 5,000 real MNIST digits (CPU suite)."""

import flax.linen as nn
import numpy as np

from algoperf import base_workload
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
  model_class = model.MLP
  model_settings = ('activation', 'num_hidden')
  activation = staticmethod(nn.sigmoid)
  num_hidden = 2

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


class MnistReluWorkload(MnistWorkload):
  """Variant: ReLU instead of sigmoid hidden activations."""

  name = 'mnist_relu'
  activation = staticmethod(nn.relu)  # The activation is the one change.


class MnistDeepWorkload(MnistWorkload):
  """Variant: four hidden layers instead of two (depth is the one change)."""

  name = 'mnist_deep'
  num_hidden = 4
