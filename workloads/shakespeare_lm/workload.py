"""shakespeare_lm: a character-level decoder LM on Shakespeare (CPU suite).

Mirrors AlgoPerf's wmt / LM workloads: next-token cross-entropy summed over
valid tokens, evaluated per token (loss, perplexity, next-character
accuracy), with variants that change one architectural detail each.
"""

import math

import flax.linen as nn
import jax.numpy as jnp
import numpy as np

from algoperf import base_workload
from algoperf import losses
from algoperf import spec
from workloads.shakespeare_lm import dataset
from workloads.shakespeare_lm import model


class ShakespeareLmWorkload(base_workload.ArrayWorkload):
  """2-layer, width-96 pre-LN transformer on 64-character windows.

  The metric is validation cross-entropy in nats per character ('loss',
  lower is better), as AlgoPerf's LM workloads; perplexity = exp(loss) and
  next-character accuracy are reported beside it. Evaluation uses 128 +
  512 + 512 windows, few enough to keep evals a small share of wall time.
  The loss's ``mask_batch`` is the batch's 'weights' [B, T], so
  n_valid_examples counts valid tokens.
  """

  name = 'shakespeare_lm'
  num_train_examples = 72230  # Windows of 64 predicted characters.
  num_eval_train_examples = 128
  num_validation_examples = 512
  num_test_examples = 512
  eval_batch_size = 256
  default_batch_size = 32
  loss_type = spec.LossType.SOFTMAX_CROSS_ENTROPY
  dataset_builder = dataset.ShakespeareChars
  input_keys = ('inputs', 'targets', 'weights')

  # Model settings a variant may override (each variant says why).
  model_class = model.DecoderLM
  model_settings = ('vocab_size', 'max_length', 'width', 'depth', 'num_heads',
                    'activation', 'glu', 'pre_layer_norm',
                    'attention_temperature')
  vocab_size = dataset.VOCAB_SIZE
  max_length = dataset.SEQUENCE_LENGTH
  width = 96
  depth = 2
  num_heads = 4
  pre_layer_norm = True
  glu = False
  activation = staticmethod(nn.gelu)
  attention_temperature = 1.0

  def init_inputs(self):
    return model.init_inputs(dataset.SEQUENCE_LENGTH)

  def synthetic_arrays(self, num_examples, seed):
    rng = np.random.default_rng(seed)
    shape = (num_examples, dataset.SEQUENCE_LENGTH + 1)
    return {'tokens': rng.integers(1, dataset.VOCAB_SIZE, shape,
                                   dtype=np.uint8)}

  def preprocess(self, arrays):
    tokens = arrays['tokens'].astype(np.int32)
    targets = tokens[:, 1:]
    return {
      'inputs': tokens[:, :-1],
      'targets': targets,
      'weights': (targets != dataset.PAD_ID).astype(np.float32),
    }

  def eval_metrics(self, logits, batch, mask):
    """Sums over valid tokens of valid (unpadded) rows."""
    weights = batch['weights'] * mask[:, None]
    loss = self.loss_fn(batch['targets'], logits, weights)['summed']
    return {'loss': loss,
            'accuracy': losses.num_correct(logits, batch['targets'], weights),
            'num_tokens': weights.sum()}

  def eval_averages(self, totals, num_examples) -> dict[str, float]:
    """Loss and accuracy averaged over tokens (not windows); perplexity."""
    del num_examples
    num_tokens = float(totals['num_tokens'])
    loss = float(totals['loss']) / num_tokens
    return {
      'loss': loss,
      'perplexity': math.exp(min(loss, 700.0)),  # exp overflows past ~709.
      'accuracy': float(totals['accuracy']) / num_tokens,
    }


class ShakespeareLmPostLnWorkload(ShakespeareLmWorkload):
  """LayerNorm after each residual add (original Transformer): wmt_post_ln."""

  name = 'shakespeare_lm_post_ln'
  pre_layer_norm = False  # Post-LN is harder to optimise: tests warmup.


class ShakespeareLmAttentionTempWorkload(ShakespeareLmWorkload):
  """Attention logits divided by a temperature of 4, as wmt_attention_temp."""

  name = 'shakespeare_lm_attention_temp'
  attention_temperature = 4.0  # Flatter attention at init, slower to sharpen.


class ShakespeareLmGluTanhWorkload(ShakespeareLmWorkload):
  """Gated (GLU) MLP with tanh activation, as wmt_glu_tanh.

  The gate adds parameters (329k against 255k) and ~20% compute per step.
  """

  name = 'shakespeare_lm_glu_tanh'
  glu = True  # A gated, saturating MLP changes the loss landscape.
  activation = staticmethod(jnp.tanh)
