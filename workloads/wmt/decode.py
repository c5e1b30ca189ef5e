"""Beam search over the Transformer's cached single-step decoder.

Behaves as AlgoPerf's ``wmt_jax/decode.py`` (the flax WMT example's): beam
4, length penalty ((5 + length) / 6) ** alpha with alpha 0.6, EOS id 2;
each step extends the live beams by the 2 x beam best tokens, keeps the
best ``beam`` that did not just end in EOS alive, and merges the ones that
did into the finished set by length-normalised score. Beams are kept in
ascending score order (the best is last). The search stops at the length
limit, or once every row's worst finished score beats its best live
log-probability divided by the largest possible penalty.
"""

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

NEG_INF = -1.0e7  # "Minus infinity" that keeps arithmetic finite.


def length_penalty(alpha, length):
  return ((5.0 + length) / 6.0) ** alpha


def _expand(x, beam):
  """[B, ...] -> [B, beam, ...] (scalars, e.g. cache counters, as they are)."""
  if x.ndim < 2:
    return x
  return jnp.repeat(x[:, None], beam, axis=1)


def _flat(x):
  return x if x.ndim < 2 else x.reshape((-1,) + x.shape[2:])


def _unflat(x, batch):
  return x if x.ndim < 2 else x.reshape((batch, -1) + x.shape[1:])


def expand_flat(x, beam):
  """[B, ...] -> [B * beam, ...], each row repeated in place."""
  return _flat(_expand(x, beam))


def _take(tree, indices):
  """Per row, the beams at ``indices`` [B, K] of every [B, beam, ...] leaf."""
  rows = jnp.arange(indices.shape[0])[:, None]
  return jax.tree.map(lambda x: x if x.ndim < 2 else x[rows, indices], tree)


def _top_ascending(scores, k):
  """Indices of the k best per row, worst first."""
  return lax.top_k(scores, k)[1][:, ::-1]


def beam_search(tokens_to_logits, cache, batch_size, *, beam_size=4,
                alpha=0.6, eos_id=2, max_decode_len=256):
  """Sequences [B, beam, max_decode_len] (position 0 is the start token 0)
  and their scores [B, beam], best beam last.

  ``tokens_to_logits(ids [B * beam, 1], flat_cache)`` returns
  (logits [B * beam, vocab], new flat cache); ``cache`` is the decoder's
  cache for a batch of ``batch_size`` rows.
  """
  b, k, length = batch_size, beam_size, max_decode_len
  first_alive = jnp.array([0.0] + [NEG_INF] * (k - 1))
  state = {
    'index': jnp.array(0),
    'alive_logp': jnp.tile(first_alive, (b, 1)),
    'alive_seqs': jnp.zeros((b, k, length), jnp.int32),
    'done_scores': jnp.full((b, k), NEG_INF),
    'done_seqs': jnp.zeros((b, k, length), jnp.int32),
    'done_flags': jnp.zeros((b, k), bool),
    'cache': jax.tree.map(lambda x: _expand(x, k), cache),
  }

  def keep_going(s):
    best_alive = s['alive_logp'][:, -1:] / length_penalty(alpha, length)
    worst_done = jnp.min(s['done_scores'], axis=1, keepdims=True)
    worst_done = jnp.where(s['done_flags'], worst_done, NEG_INF)
    settled = jnp.all(worst_done > best_alive)
    return (s['index'] < length - 1) & ~settled

  def step(s):
    i = s['index']
    ids = lax.dynamic_slice(s['alive_seqs'], (0, 0, i), (b, k, 1))
    logits, new_cache = tokens_to_logits(
      _flat(ids), jax.tree.map(_flat, s['cache']))
    new_cache = jax.tree.map(lambda x: _unflat(x, b), new_cache)
    vocab = logits.shape[-1]
    logp = (jax.nn.log_softmax(_unflat(logits, b))
            + s['alive_logp'][:, :, None]).reshape(b, k * vocab)
    cand_logp, cand = lax.top_k(logp, 2 * k)
    cand_beam = cand // vocab
    cand_seqs = _take(s['alive_seqs'], cand_beam)
    cand_seqs = lax.dynamic_update_slice(
      cand_seqs, (cand % vocab)[:, :, None].astype(jnp.int32), (0, 0, i + 1))
    ended = cand_seqs[:, :, i + 1] == eos_id
    # Survivors: the best k candidates that did not just end.
    alive_logp = cand_logp + ended * NEG_INF
    keep = _top_ascending(alive_logp, k)
    alive_seqs, alive_logp = _take((cand_seqs, alive_logp), keep)
    cache = _take(new_cache, _take(cand_beam, keep))
    # Finished: the best k of the old finished and the candidates that end.
    scores = cand_logp / length_penalty(alpha, i + 1) + (~ended) * NEG_INF
    pool = (jnp.concatenate([s['done_seqs'], cand_seqs], axis=1),
            jnp.concatenate([s['done_scores'], scores], axis=1),
            jnp.concatenate([s['done_flags'], ended], axis=1))
    best = _top_ascending(pool[1], k)
    done_seqs, done_scores, done_flags = _take(pool, best)
    return {'index': i + 1, 'alive_logp': alive_logp,
            'alive_seqs': alive_seqs, 'done_scores': done_scores,
            'done_seqs': done_seqs, 'done_flags': done_flags, 'cache': cache}

  final = lax.while_loop(keep_going, step, state)
  # A row with no finished beam returns its live beams instead.
  any_done = jnp.any(final['done_flags'], axis=1)
  seqs = jnp.where(any_done[:, None, None], final['done_seqs'],
                   final['alive_seqs'])
  scores = jnp.where(any_done[:, None], final['done_scores'],
                     final['alive_logp'])
  return seqs, scores


def strip_after_eos(tokens, eos_id=2) -> np.ndarray:
  """The tokens up to and including the first EOS, as AlgoPerf's
  ``_decode_tokens`` cuts a prediction or reference (and as there, a row
  without EOS keeps only its first token)."""
  tokens = np.asarray(tokens)
  return tokens[:np.argmax(tokens == eos_id) + 1].astype(np.int32)


def translate(decode_model, params, inputs, *, max_decode_len=256,
              beam_size=4, alpha=0.6, eos_id=2):
  """The best beam's tokens [B, max_decode_len - 1] for source ``inputs``.

  ``decode_model`` is the Transformer built with ``decode=True``. As in
  AlgoPerf's ``predict_step``: encode once, repeat each row's encoding per
  beam, decode one token per step from a key/value cache sized
  [B, max_decode_len], drop the start token of the best sequence.
  """
  batch_size = inputs.shape[0]
  encoded = decode_model.apply({'params': params}, inputs,
                               method=decode_model.encode)
  encoded = expand_flat(encoded, beam_size)
  beam_inputs = expand_flat(inputs, beam_size)

  def tokens_to_logits(ids, cache):
    logits, changed = decode_model.apply(
      {'params': params, 'cache': cache}, encoded, beam_inputs, ids,
      mutable=['cache'], method=decode_model.decode_step)
    return logits[:, 0], changed['cache']

  seqs, _ = beam_search(tokens_to_logits,
                        empty_cache(decode_model, batch_size, inputs.shape[1],
                                    max_decode_len),
                        batch_size, beam_size=beam_size, alpha=alpha,
                        eos_id=eos_id, max_decode_len=max_decode_len)
  return seqs[:, -1, 1:]


def empty_cache(decode_model, batch_size, input_length, max_decode_len):
  """The decoder's cache before the first token: zeros of the shapes its
  init creates (traced, so no parameters are drawn)."""
  batch = {'inputs': jnp.ones((batch_size, input_length), jnp.int32),
           'targets': jnp.ones((batch_size, max_decode_len), jnp.int32)}
  shapes = jax.eval_shape(
    lambda: decode_model.init(jax.random.PRNGKey(0), batch, train=False))
  return jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), shapes['cache'])
