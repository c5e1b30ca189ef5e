"""census_dlrm: DLRM-small predicting income >50K on the Adult census table.

Mirrors AlgoPerf's criteo1tb: dense features through a bottom MLP, one
shared embedding table for the categorical ids, dot interactions, a top MLP
and one logit; sigmoid cross-entropy; the target metric is validation loss
(lower is better).
"""

import jax.numpy as jnp
import numpy as np

from algoperf import base_workload
from algoperf import losses
from algoperf import spec
from workloads.census_dlrm import dataset
from workloads.census_dlrm import model


class DlrmWorkload(base_workload.ArrayWorkload):
  """The DLRM-small workload without its data: a family sets the data facts
  (splits, ``dataset_builder``, ``train_mean`` / ``train_stddev``,
  ``num_numeric`` / ``num_categorical``, ``vocab_size``) and the model's
  sizes; everything else (model, loss, preprocessing) is shared."""

  loss_type = spec.LossType.SIGMOID_CROSS_ENTROPY
  input_keys = model.INPUT_KEYS + ('targets',)
  model_input_keys = model.INPUT_KEYS
  num_numeric: int
  num_categorical: int

  # Model settings; variants override one of them.
  model_class = model.DlrmSmall
  model_settings = ('vocab_size', 'embed_dim', 'bottom_dims', 'top_dims',
                    'embedding_init_multiplier', 'use_layer_norm')
  vocab_size: int
  embed_dim: int
  bottom_dims: tuple  # The last equals embed_dim (dot interactions).
  top_dims: tuple
  embedding_init_multiplier = None
  use_layer_norm = False

  def init_inputs(self):
    return model.init_inputs(self.num_numeric, self.num_categorical)

  def synthetic_arrays(self, num_examples, seed):
    rng = np.random.default_rng(seed)
    numeric = rng.normal(
      self.train_mean, self.train_stddev, (num_examples, len(self.train_mean))
    )
    return {
      'numeric': numeric.astype(np.float32),
      'categorical': rng.integers(
        0, self.vocab_size, (num_examples, self.num_categorical)
      ).astype(np.int32),
      'targets': rng.integers(0, 2, num_examples),
    }

  def preprocess(self, arrays):
    mean = np.asarray(self.train_mean, np.float32)
    stddev = np.asarray(self.train_stddev, np.float32)
    return {
      'numeric': (arrays['numeric'] - mean) / stddev,
      'categorical': arrays['categorical'].astype(np.int32),
      'targets': arrays['targets'].astype(np.float32),
    }

  def loss_fn(
    self, label_batch, logits_batch, mask_batch=None, label_smoothing=0.0
  ):
    """Sigmoid cross-entropy of logits [B, 1] (or [B]) and labels [B].

    ``label_smoothing`` is ignored, as AlgoPerf's criteo1tb ignores it: the
    metric is the unsmoothed log-loss, and training toward labels pulled to
    0.5 would bias every prediction against it (in the target-setting runs
    a smoothing of 0.1 cost 0.012-0.018 of best validation loss).
    """
    del label_smoothing
    logits = jnp.reshape(logits_batch, (logits_batch.shape[0],))
    labels = jnp.reshape(label_batch, (label_batch.shape[0],))
    return losses.sigmoid_cross_entropy(labels, logits, mask_batch)


class CensusDlrmWorkload(DlrmWorkload):
  """DLRM-small (embed 32, bottom 64-32, top 128-64-1) on 38,842 people.

  criteo1tb's DLRM-small shape (categorical embeddings, a bottom MLP on
  the numeric features, dot interactions, a top MLP) at the size of the
  Adult census table; the metric is the unsmoothed log-loss, as criteo1tb's.
  """

  name = 'census_dlrm'
  num_train_examples = dataset.SPLIT_SIZES['train']
  num_eval_train_examples = 5000
  num_validation_examples = dataset.SPLIT_SIZES['validation']
  num_test_examples = dataset.SPLIT_SIZES['test']
  eval_batch_size = 2500
  default_batch_size = 256
  dataset_builder = dataset.AdultCensus
  num_numeric = len(dataset.NUMERIC_COLUMNS)
  num_categorical = len(dataset.CATEGORICAL_COLUMNS)
  # Per-column mean and stddev of the stored numeric features (log1p where
  # dataset.LOG1P_COLUMNS says) over the train split; the real-data test
  # checks them against the prepared data.
  train_mean = (38.7342, 11.9842, 10.0755, 0.7264, 0.3488, 40.4122)
  train_stddev = (13.7288, 0.6297, 2.5784, 2.4415, 1.5820, 12.3799)

  vocab_size = dataset.VOCAB_SIZE
  embed_dim = 32
  bottom_dims = (64, 32)
  top_dims = (128, 64, 1)


class CensusDlrmEmbedInitWorkload(CensusDlrmWorkload):
  """Embedding init stddev 1 (as AlgoPerf's criteo1tb_embed_init)."""

  name = 'census_dlrm_embed_init'
  embedding_init_multiplier = 1.0


class CensusDlrmLayerNormWorkload(CensusDlrmWorkload):
  """LayerNorm after every hidden layer (as AlgoPerf's criteo1tb_layernorm)."""

  name = 'census_dlrm_layernorm'
  use_layer_norm = True
