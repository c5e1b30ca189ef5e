"""CTC loss, greedy decoding and word errors, all jittable.

Tokens are words (id 0 is the blank and label padding), so the word error
rate is the token edit distance: AlgoPerf's definition (word-level
Levenshtein distance summed over utterances, over the reference word count)
computed inside the jitted eval step, without detokenising.
"""

import jax
import jax.numpy as jnp
import optax

BLANK_ID = 0


def ctc_loss(logits_BTV, logit_paddings_BT, labels_BL, label_paddings_BL=None):
  """Per-utterance CTC loss [B].

  Label paddings default to the labels equal to BLANK_ID (labels padded
  with it); LibriSpeech's batches carry their own.
  """
  if label_paddings_BL is None:
    label_paddings_BL = (labels_BL == BLANK_ID).astype(jnp.float32)
  return optax.ctc_loss(logits_BTV, logit_paddings_BT,
                        labels_BL.astype(jnp.int32), label_paddings_BL,
                        blank_id=BLANK_ID)


def greedy_decode(logits_BTV, logit_paddings_BT):
  """int [B, T]: each frame's emitted word id, or BLANK_ID for none.

  Greedy CTC decoding: the best id per frame, a repeat of the previous
  frame's id collapsed, blanks and padded frames emitting nothing. The
  emitted ids stay at their frames (not packed to the front): the edit
  distance below skips the empty ones.
  """
  best_BT = jnp.argmax(logits_BTV, axis=-1)
  previous_BT = jnp.pad(best_BT[:, :-1], ((0, 0), (1, 0)),
                        constant_values=BLANK_ID)
  emits_BT = ((best_BT != BLANK_ID) & (best_BT != previous_BT)
              & (logit_paddings_BT == 0))
  return jnp.where(emits_BT, best_BT, BLANK_ID)


def edit_distances(hypotheses_BT, references_BL):
  """float [B]: Levenshtein distance between each row's non-blank ids.

  Dynamic programming over hypothesis frames (one ``lax.scan`` step each;
  a blank frame leaves the row unchanged), each step vectorised over the
  reference: within a row, d[j] = min(c[j], d[j-1] + 1) is a running
  minimum of c[k] - k, plus j.
  """
  batch, length = references_BL.shape
  j_J = jnp.arange(length + 1, dtype=jnp.float32)
  ref_lengths_B = jnp.sum(references_BL != BLANK_ID, axis=1)

  def step(distances_BJ, token_B):
    substitute_BL = distances_BJ[:, :-1] + (token_B[:, None] != references_BL)
    insert_BL = distances_BJ[:, 1:] + 1.0
    first_B1 = distances_BJ[:, :1] + 1.0
    best_BJ = jnp.concatenate(
      [first_B1, jnp.minimum(substitute_BL, insert_BL)], axis=1)
    updated_BJ = jax.lax.cummin(best_BJ - j_J, axis=1) + j_J
    return jnp.where((token_B != BLANK_ID)[:, None], updated_BJ,
                     distances_BJ), None

  initial_BJ = jnp.broadcast_to(j_J, (batch, length + 1))
  final_BJ, _ = jax.lax.scan(step, initial_BJ, hypotheses_BT.T)
  return jnp.take_along_axis(final_BJ, ref_lengths_B[:, None], axis=1)[:, 0]


def word_errors(logits_BTV, logit_paddings_BT, references_BL):
  """float [B]: word errors of greedy decoding against the references."""
  return edit_distances(greedy_decode(logits_BTV, logit_paddings_BT),
                        references_BL)
