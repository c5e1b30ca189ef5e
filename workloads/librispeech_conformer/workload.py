"""librispeech_conformer: AlgoPerf's Conformer on LibriSpeech (model side).

AlgoPerf's workload at 2c90454: raw audio and SentencePiece ids in the
batch format of this family's README (pairs of arrays with paddings), the
model's (logits, logit paddings) out, CTC loss per target token, greedy
CTC decoding and the word error rate (lower is better). The data side
(``dataset.py``: the TFDS builder, the input pipeline, the SentencePiece
detokeniser) is imported lazily, so synthetic data needs none of it.
"""


import jax
import jax.numpy as jnp
import numpy as np

from algoperf import base_workload
from algoperf import spec
from workloads.espeak_conformer import ctc
from workloads.librispeech_conformer import model
from workloads.librispeech_conformer import wer

NUM_SAMPLES = 320_000  # 20 s at 16 kHz: AlgoPerf's padded audio length.
MAX_TARGET_LENGTH = 256  # AlgoPerf's padded transcript length.
VOCAB_SIZE = 1024  # SentencePiece pieces; id 0 is CTC's blank.
# The stored (flat) keys and the pairs they form in a model-side batch.
PAIRS = {'inputs': ('inputs', 'input_paddings'),
         'targets': ('targets', 'target_paddings')}


def model_batch(batch: dict) -> dict:
  """AlgoPerf's batch of pairs from the flat stored form (or as it is)."""
  if isinstance(batch['inputs'], (tuple, list)):
    return batch
  return {key: (batch[values], batch[paddings])
          for key, (values, paddings) in PAIRS.items()}


# The data side (BUILDER, load_detokenizer), imported when data is read.
_DATA = 'workloads.librispeech_conformer.dataset'


class PairedBatches(base_workload.ShuffledBatches):
  """The in-memory training queue, its batches in AlgoPerf's pair format."""

  def batch_at(self, position: int):
    return model_batch(super().batch_at(position))


class LibriSpeechConformerWorkload(base_workload.ArrayWorkload):
  """Conformer, 4 blocks of width 512, 8 heads: 32,321,792 parameters."""

  name = 'librispeech_conformer'
  # AlgoPerf's split sizes (after its length filter); eval_train rounds
  # the validation size up to whole eval batches, as AlgoPerf does.
  num_train_examples = 263_840
  num_validation_examples = 5_348
  num_test_examples = 2_472
  eval_batch_size = 256
  num_eval_train_examples = -(-num_validation_examples // eval_batch_size) * (
    eval_batch_size)
  default_batch_size = 256  # AlgoPerf's reference algorithms'.
  loss_type = spec.LossType.CTC_LOSS
  input_keys = ('inputs', 'input_paddings', 'targets', 'target_paddings')
  output_layer_name = 'Dense_0'
  dataset_builder = base_workload.DataSide(_DATA, 'BUILDER')
  load_detokenizer = base_workload.DataSide(_DATA, 'load_detokenizer')

  # Model settings; each variant overrides one.
  model_class = model.Conformer
  model_settings = ('activation', 'attention_temperature', 'post_layer_norm')
  activation = 'swish'
  attention_temperature = 1.0
  post_layer_norm = True

  def init_inputs(self):
    zeros = jnp.zeros((1, NUM_SAMPLES), jnp.float32)
    return zeros, zeros

  def synthetic_arrays(self, num_examples, seed):
    """Noise at speech-like int16 levels, random lengths and piece ids."""
    rng = np.random.default_rng(seed)
    num_samples = rng.integers(NUM_SAMPLES // 4, NUM_SAMPLES + 1, num_examples)
    input_paddings = (np.arange(NUM_SAMPLES) >= num_samples[:, None]).astype(
      np.float32)
    audio = rng.normal(0.0, 2000.0, (num_examples, NUM_SAMPLES)).astype(
      np.float32).round() * (1.0 - input_paddings)
    # 1-60 pieces: the shortest audio (80,000 samples) has 125 encoder
    # frames, so every transcript has a CTC alignment (finite loss).
    num_pieces = rng.integers(1, 61, num_examples)
    target_paddings = (np.arange(MAX_TARGET_LENGTH) >= num_pieces[:, None]
                       ).astype(np.float32)
    targets = rng.integers(1, VOCAB_SIZE, (num_examples, MAX_TARGET_LENGTH))
    return {
      'inputs': audio,
      'input_paddings': input_paddings,
      'targets': (targets * (1.0 - target_paddings)).astype(np.int32),
      'target_paddings': target_paddings,
    }

  def make_batches(self, split, arrays, global_batch_size, seed, position):
    del split
    return PairedBatches(arrays, global_batch_size, seed, position)

  def model_fn(self, params, augmented_and_preprocessed_input_batch,
               model_state, mode, rng, update_batch_norm,
               use_running_average_bn=None,
               dropout_rate=model.DROPOUT_RATE):
    """AlgoPerf's: in training, or when BatchNorm is to be updated, the
    model runs in training mode (dropout, SpecAugment, batch statistics)
    and returns its new BatchNorm state; otherwise in eval mode."""
    batch = model_batch(augmented_and_preprocessed_input_batch)
    variables = {'params': params, **(model_state or {})}
    extra = self._bn_kwargs(use_running_average_bn)
    if update_batch_norm or mode == spec.ForwardPassMode.TRAIN:
      outputs, new_state = self._model.apply(
        variables, batch['inputs'], train=True, dropout_rate=dropout_rate,
        rngs={'dropout': rng}, mutable=['batch_stats'], **extra)
      return outputs, dict(new_state)
    return self._model.apply(variables, batch['inputs'], train=False,
                             **extra), model_state

  def _bn_kwargs(self, use_running_average_bn):
    """The Conformer's BatchNorm switch (DeepSpeech has none)."""
    return {'use_running_average_bn': use_running_average_bn}

  def loss_fn(self, label_batch, logits_batch, mask_batch=None,
              label_smoothing=0.0):
    """CTC per utterance; ``n_valid_examples`` counts target tokens.

    As AlgoPerf's: summed / n_valid_examples is the loss per target piece;
    ``label_smoothing`` does not apply to CTC. ``label_batch`` is the
    (ids, paddings) pair; a [B] ``mask_batch`` drops rows (AlgoPerf
    combines it with the paddings by broadcasting that only works for
    some batch sizes; this is what it means).
    """
    del label_smoothing
    targets_BL, target_paddings_BL = label_batch
    logits_BTV, logit_paddings_BT = logits_batch
    per_example = ctc.ctc_loss(logits_BTV, logit_paddings_BT, targets_BL,
                               target_paddings_BL)
    tokens_BL = 1.0 - target_paddings_BL
    if mask_batch is not None:
      per_example = per_example * mask_batch
      tokens_BL = tokens_BL * mask_batch[:, None]
    return {'summed': per_example.sum(),
            'n_valid_examples': jnp.maximum(tokens_BL.sum(), 1),
            'per_example': per_example}

  def eval_metrics(self, logits, batch, mask):
    """Jitted per batch: loss and token sums, and the greedy hypotheses.

    The hypotheses stay ids at their frames (``ctc.greedy_decode``); the
    word error rate needs text, so it is counted on the host
    (``_eval_model_on_split``).
    """
    batch = model_batch(batch)
    logits_BTV, logit_paddings_BT = logits
    loss = self.loss_fn(batch['targets'], logits, mask)
    return {'loss': loss['summed'], 'num_tokens': loss['n_valid_examples'],
            'hypotheses': ctc.greedy_decode(logits_BTV, logit_paddings_BT)}

  def detokenizer(self, data_dir):
    """ids -> text: the data side's SentencePiece model, or one word per id
    on synthetic data."""
    if self._synthetic is not None:
      return wer.ids_as_words
    return self.load_detokenizer(data_dir)

  def _eval_model_on_split(self, split, num_examples, global_batch_size,
                           params, model_state, rng, data_dir,
                           global_step=0):
    del global_batch_size, rng, global_step
    arrays = self.split_arrays(split, data_dir)
    arrays = {k: arrays[k][:num_examples] for k in self.input_keys}
    detokenize = self.detokenizer(data_dir)
    loss = tokens = errors = words = 0.0
    for batch, mask in base_workload.padded_batches(arrays,
                                                    self.eval_batch_size):
      sums = jax.device_get(self._eval_step(params, model_state, batch, mask))
      loss += float(sums['loss'])
      tokens += float(sums['num_tokens'])
      batch = jax.device_get(batch)
      batch_errors, batch_words = wer.word_errors(
        np.asarray(sums['hypotheses']), np.asarray(batch['targets']),
        np.asarray(batch['target_paddings']), np.asarray(mask) > 0,
        detokenize)
      errors += batch_errors
      words += batch_words
    # AlgoPerf calls the loss 'ctc_loss'; the harness's divergence check
    # reads '<split>/loss', as for every workload.
    return {'loss': loss / max(tokens, 1.0), 'wer': errors / max(words, 1.0)}


class LibriSpeechConformerAttentionTemperatureWorkload(
    LibriSpeechConformerWorkload):
  """Attention output x 1.6 (AlgoPerf's attention_temperature)."""

  name = 'librispeech_conformer_attention_temperature'
  attention_temperature = 1.6


class LibriSpeechConformerLayerNormWorkload(LibriSpeechConformerWorkload):
  """No LayerNorm after each Conformer block (use_post_layer_norm False)."""

  name = 'librispeech_conformer_layernorm'
  post_layer_norm = False


class LibriSpeechConformerGeluWorkload(LibriSpeechConformerWorkload):
  """GELU instead of swish in the feed-forward and convolution modules."""

  name = 'librispeech_conformer_gelu'
  activation = 'gelu'
