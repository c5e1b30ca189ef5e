"""criteo1tb: DLRM-small click prediction on Criteo 1TB (AlgoPerf suite).

AlgoPerf's workload at 2c90454: sigmoid cross-entropy of one logit per row;
the target metric is the validation loss (lower is better). Facts (targets,
budget, step hint, eval period) live in algoperf/suites/algoperf.json.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np

from algoperf import base_workload
from algoperf import spec
from workloads.criteo1tb import model


class Criteo1TbDlrmSmallWorkload(base_workload.ArrayWorkload):
  """DLRM-small: bottom (512, 256, 128), top (1024, 1024, 512, 256, 1)."""

  name = 'criteo1tb'
  num_train_examples = 4_195_197_692
  num_validation_examples = 83_274_637
  num_test_examples = 95_000_000
  eval_batch_size = 131_072  # AlgoPerf's JAX workload's.
  # AlgoPerf rounds eval_train up to whole eval batches.
  num_eval_train_examples = math.ceil(
    num_validation_examples / eval_batch_size) * eval_batch_size
  default_batch_size = 262_144  # AlgoPerf's reference algorithms'.
  loss_type = spec.LossType.SIGMOID_CROSS_ENTROPY
  # The data side's builder, imported only when data is read.
  dataset_builder = base_workload.DataSide('workloads.criteo1tb.dataset',
                                          'BUILDER')
  input_keys = ('inputs', 'targets')

  model_class = model.DlrmSmall
  model_settings = ('vocab_size', 'num_dense_features', 'mlp_bottom_dims',
                    'mlp_top_dims', 'embed_dim', 'use_layer_norm',
                    'embedding_init_multiplier')
  vocab_size = model.VOCAB_SIZE
  num_dense_features = model.NUM_DENSE_FEATURES
  mlp_bottom_dims = (512, 256, 128)
  mlp_top_dims = (1024, 1024, 512, 256, 1)
  embed_dim = 128
  use_layer_norm = False
  embedding_init_multiplier = None
  output_layer_name = 'Dense_7'  # The logit layer, as AlgoPerf names it.

  def init_inputs(self):
    return model.init_inputs()

  def synthetic_arrays(self, num_examples, seed):
    """Rows in the model-side format: log-scaled counts, float ids, 0/1."""
    rng = np.random.default_rng(seed)
    counts = rng.geometric(0.05, (num_examples, self.num_dense_features)) - 1
    ids = rng.integers(0, self.vocab_size,
                       (num_examples, model.NUM_CATEGORICAL_FEATURES))
    inputs = np.concatenate([np.log1p(counts), ids], axis=1)
    return {
      'inputs': inputs.astype(np.float32),
      'targets': rng.integers(0, 2, num_examples).astype(np.float32),
    }

  def loss_fn(self, label_batch, logits_batch, mask_batch=None,
              label_smoothing=0.0):
    """AlgoPerf's per-row sigmoid cross-entropy of logits [B, 1] (or [B]).

    ``label_smoothing`` is ignored, as AlgoPerf's criteo1tb ignores it.
    """
    del label_smoothing
    batch_size = label_batch.shape[0]
    labels = jnp.reshape(label_batch, (batch_size,))
    logits = jnp.reshape(logits_batch, (batch_size,))
    per_example = -(labels * jax.nn.log_sigmoid(logits)
                    + (1 - labels) * jax.nn.log_sigmoid(-logits))
    if mask_batch is None:
      num_valid = batch_size
    else:
      mask_batch = jnp.reshape(mask_batch, (batch_size,))
      per_example = per_example * mask_batch
      num_valid = mask_batch.sum()
    return {'summed': per_example.sum(), 'n_valid_examples': num_valid,
            'per_example': per_example}

  def eval_metrics(self, logits, batch, mask):
    """AlgoPerf reports the loss only: summed here, per row in averages."""
    return {'loss': self.loss_fn(batch['targets'], logits, mask)['summed']}


class Criteo1TbDlrmSmallLayerNormWorkload(Criteo1TbDlrmSmallWorkload):
  """LayerNorm after every hidden ReLU and on the embeddings."""

  name = 'criteo1tb_layernorm'
  use_layer_norm = True


class Criteo1TbDlrmSmallResNetWorkload(Criteo1TbDlrmSmallWorkload):
  """AlgoPerf's DLRMResNet: residual bottom (256 x 3) and top (256 x 4)."""

  name = 'criteo1tb_resnet'
  model_class = model.DlrmResNet
  mlp_bottom_dims = (256, 256, 256)
  mlp_top_dims = (256, 256, 256, 256, 1)


class Criteo1TbDlrmSmallEmbedInitWorkload(Criteo1TbDlrmSmallWorkload):
  """Embedding init scale 1.0 instead of 1 / sqrt(vocab_size)."""

  name = 'criteo1tb_embed_init'
  embedding_init_multiplier = 1.0
