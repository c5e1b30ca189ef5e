"""wmt: German -> English translation with a Transformer (AlgoPerf suite).

AlgoPerf's workload at 2c90454: token cross-entropy with label smoothing
(the submission's) summed over non-padding target tokens; evaluation
reports per-token loss and accuracy and BLEU of beam-search translations;
the target metric is validation BLEU (higher is better). Facts (targets,
budget, step hint, eval period) live in algoperf/suites/algoperf.json.
"""

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from algoperf import base_workload
from algoperf import spec
from workloads.wmt import bleu
from workloads.wmt import decode
from workloads.wmt import model

# What model_fn passes to the model, when the batch has it (eval batches
# are not packed and have no position/segmentation keys).
MODEL_KEYS = ('inputs', 'targets', 'inputs_position', 'targets_position',
              'inputs_segmentation', 'targets_segmentation')


class WmtWorkload(base_workload.ArrayWorkload):
  """Transformer-big-ish: 6 + 6 layers, width 1024, 16 heads, pre-LN."""

  name = 'wmt'
  num_train_examples = 5_906_184  # wmt17_translate/de-en train.
  num_validation_examples = 3000  # wmt14_translate/de-en validation.
  num_test_examples = 3003  # wmt14_translate/de-en test.
  eval_batch_size = 128
  # AlgoPerf rounds eval_train up to whole eval batches: 24 x 128.
  num_eval_train_examples = -(-num_validation_examples // eval_batch_size) * (
    eval_batch_size)
  default_batch_size = 128  # AlgoPerf's reference algorithms'.
  loss_type = spec.LossType.SOFTMAX_CROSS_ENTROPY
  # The data side's builder, imported only when data is read.
  dataset_builder = base_workload.DataSide('workloads.wmt.dataset',
                                          'BUILDER')
  input_keys = MODEL_KEYS + ('weights',)

  model_class = model.Transformer
  model_settings = ('pre_ln', 'attention_temp', 'activation', 'glu')
  pre_ln = True
  attention_temp = 1.0
  activation = staticmethod(nn.relu)
  glu = False
  output_layer_name = 'shared_embedding'  # Also the output projection.
  default_dropout_rate = 0.1  # AlgoPerf's model_fn default for wmt.

  def init_inputs(self):
    return model.init_inputs()

  def model_fn(self, params, augmented_and_preprocessed_input_batch,
               model_state, mode, rng, update_batch_norm,
               dropout_rate=default_dropout_rate):
    batch = augmented_and_preprocessed_input_batch
    inputs = {k: batch[k] for k in MODEL_KEYS if k in batch}
    return super().model_fn(params, {'inputs': inputs}, model_state, mode,
                            rng, update_batch_norm, dropout_rate)

  def synthetic_arrays(self, num_examples, seed):
    """Packed rows as AlgoPerf's training pipeline makes them: 2-4
    sentence pairs per row, each ending in EOS, the rest padding."""
    rng = np.random.default_rng(seed)
    length = model.MAX_LENGTH
    arrays = {k: np.zeros((num_examples, length), np.int32)
              for k in MODEL_KEYS}
    for row in range(num_examples):
      for side in ('inputs', 'targets'):
        sizes = rng.integers(10, 60, rng.integers(2, 5))
        start = 0
        for segment, size in enumerate(sizes, start=1):
          tokens = rng.integers(3, model.VOCAB_SIZE, size)
          tokens[-1] = model.EOS_ID
          span = slice(start, start + size)
          arrays[side][row, span] = tokens
          arrays[f'{side}_position'][row, span] = np.arange(size)
          arrays[f'{side}_segmentation'][row, span] = segment
          start += size
    arrays['weights'] = (arrays['targets'] > 0).astype(np.float32)
    return arrays

  def loss_fn(self, label_batch, logits_batch, mask_batch=None,
              label_smoothing=0.0):
    """AlgoPerf's weighted cross-entropy over tokens.

    logits [B, T, V], targets [B, T]; ``per_example`` is per token (zero
    where the weight is 0) and ``n_valid_examples`` is the sum of weights.
    Smoothing: ``optax.smooth_labels`` of the one-hot targets.
    """
    if logits_batch.ndim != label_batch.ndim + 1:
      raise ValueError(f'wmt loss: logits {logits_batch.shape} need one '
                       f'more axis than targets {label_batch.shape}.')
    vocab = logits_batch.shape[-1]
    smoothed = optax.smooth_labels(jax.nn.one_hot(label_batch, vocab),
                                   label_smoothing)
    per_token = -jnp.sum(smoothed * nn.log_softmax(logits_batch), axis=-1)
    if mask_batch is None:
      mask_batch = jnp.ones_like(label_batch)
    per_token = jnp.where(mask_batch, per_token, 0.0)
    return {'summed': per_token.sum(), 'n_valid_examples': mask_batch.sum(),
            'per_example': per_token}

  def eval_metrics(self, logits, batch, mask):
    """Sums over valid tokens of valid rows: loss, correct, tokens."""
    weights = batch['weights'] * mask[:, None]
    correct = (logits.argmax(-1) == batch['targets']) * weights
    return {
      'loss': self.loss_fn(batch['targets'], logits, weights)['summed'],
      'accuracy': correct.sum(),
      'num_tokens': weights.sum(),
    }

  def eval_averages(self, totals, num_examples):
    """Per-token loss and accuracy (AlgoPerf divides by the weight sum)."""
    del num_examples
    tokens = float(totals['num_tokens'])
    return {'loss': float(totals['loss']) / tokens,
            'accuracy': float(totals['accuracy']) / tokens}


  # --- Evaluation: per-token loss and accuracy, then BLEU. ---
  max_predict_length = model.MAX_LENGTH  # AlgoPerf's max_predict_length.
  beam_size = 4

  def detokenizer(self, data_dir):
    """A function from token ids (to EOS) to text.

    With data on disk: the data side's SentencePiece detokeniser
    (``workloads/wmt/dataset.py`` defines ``detokenizer(data_dir)``). On
    synthetic data there is no vocabulary: token ``i`` reads as ``w<i>``,
    which keeps BLEU's whole path (decode, cut, tokenise, count) running.
    """
    if self._synthetic is not None:
      return lambda ids: ' '.join(f'w{int(i)}' for i in ids
                                  if i != model.EOS_ID)
    from workloads.wmt import dataset

    return dataset.detokenizer(data_dir)

  @functools.cached_property
  def _translate(self):
    """One jitted beam search per workload instance."""
    settings = {s: getattr(self, s) for s in self.model_settings}
    decode_model = self.model_class(**settings, decode=True)
    return jax.jit(functools.partial(
      decode.translate, decode_model, max_decode_len=self.max_predict_length,
      beam_size=self.beam_size, eos_id=model.EOS_ID))

  def _eval_model_on_split(self, split, num_examples, global_batch_size,
                           params, model_state, rng, data_dir,
                           global_step=0):
    """Loss and accuracy per target token, and corpus BLEU of beam-search
    translations against the targets (AlgoPerf's order and definitions;
    eval rows are not packed, so only the keys present are used)."""
    del global_batch_size, rng, global_step
    arrays = self.split_arrays(split, data_dir)
    arrays = {k: v[:num_examples] for k, v in arrays.items()
              if k in self.input_keys}
    totals = None
    hypotheses, references = [], []
    detokenize = self.detokenizer(data_dir)
    for batch, mask in base_workload.padded_batches(arrays,
                                                    self.eval_batch_size):
      sums = self._eval_step(params, model_state, batch, mask)
      totals = sums if totals is None else jax.tree.map(jnp.add, totals,
                                                        sums)
      predicted = np.asarray(jax.device_get(
        self._translate(params, batch['inputs'])))
      targets = np.asarray(jax.device_get(batch['targets']))
      for row in np.flatnonzero(np.asarray(jax.device_get(mask))):
        hypotheses.append(detokenize(decode.strip_after_eos(predicted[row])))
        references.append(detokenize(decode.strip_after_eos(targets[row])))
    results = self.eval_averages(jax.device_get(totals), num_examples)
    results['bleu'] = bleu.corpus_bleu(hypotheses, references)
    return results


class WmtPostLnWorkload(WmtWorkload):
  """LayerNorm after each residual add; no final LayerNorms."""

  name = 'wmt_post_ln'
  pre_ln = False


class WmtAttentionTempWorkload(WmtWorkload):
  """Queries multiplied by 4.0 before attention."""

  name = 'wmt_attention_temp'
  attention_temp = 4.0


class WmtGluTanhWorkload(WmtWorkload):
  """Gated MLP (a second input Dense multiplies the activation), tanh."""

  name = 'wmt_glu_tanh'
  glu = True
  activation = staticmethod(jnp.tanh)
