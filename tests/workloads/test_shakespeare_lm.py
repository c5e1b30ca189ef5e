"""shakespeare_lm: per-token loss and eval, windows split by play, the
prepared text.

What every workload must do (train, evaluate, prepare) is checked for this
family by tests/contract/test_workloads.py.
"""

import jax.numpy as jnp
import numpy as np
import pytest

from algoperf import registry
from tests.conftest import prepare_once
from workloads.shakespeare_lm import dataset


def test_loss_counts_tokens_and_eval_normalises_by_tokens():
  w = registry.make_workload('shakespeare_lm')
  targets = jnp.array([[1, 2, 3], [4, 5, 6]])
  logits = jnp.zeros((2, 3, dataset.VOCAB_SIZE))
  weights = jnp.array([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
  out = w.loss_fn(targets, logits, weights)
  assert float(out['n_valid_examples']) == 3.0
  assert out['per_example'].shape == (2, 3)
  assert float(out['summed']) == pytest.approx(3 * np.log(128), rel=1e-5)
  # Rows 0 and 1 valid, row 2 is padding: only 3 tokens count.
  batch = {'targets': jnp.concatenate([targets, targets[:1]]),
           'weights': jnp.concatenate([weights, jnp.ones((1, 3))])}
  sums = w.eval_metrics(jnp.zeros((3, 3, 128)), batch,
                        jnp.array([1.0, 1.0, 0.0]))
  assert float(sums['num_tokens']) == 3.0
  # A split's metrics are per token, not per window; perplexity is exp(loss).
  averages = w.eval_averages({'loss': 6.0, 'accuracy': 1.0, 'num_tokens': 3.0},
                             num_examples=2)
  assert averages == pytest.approx(
    {'loss': 2.0, 'accuracy': 1 / 3, 'perplexity': np.exp(2.0)})


def test_preprocess_shifts_targets_by_one_token():
  w = registry.make_workload('shakespeare_lm')
  tokens = np.arange(1, 66, dtype=np.uint8)[None]
  arrays = w.preprocess({'tokens': tokens})
  np.testing.assert_array_equal(arrays['inputs'][0], np.arange(1, 65))
  np.testing.assert_array_equal(arrays['targets'][0], np.arange(2, 66))
  assert arrays['weights'].shape == (1, 64) and arrays['weights'].all()


def test_windows_split_by_play_cover_every_token_once():
  text = bytes(range(1, 101)) * 2  # 200 bytes.
  windows = dataset.windows_of(text, length=64)
  assert windows.shape == (3, 65)
  np.testing.assert_array_equal(windows[1, 0], windows[0, -1])
  texts = {name: b'x' * 300 for names in dataset.HELD_OUT_PLAYS.values()
           for name in names}
  texts['other_gut.txt'] = b'y' * 300
  splits = dataset.split_windows(texts)
  assert (splits['train'] == ord('y')).all()
  assert (splits['validation'] == ord('x')).all()


def test_held_out_plays_are_only_in_validation_and_test(prepared_data_dir):
  prepare_once(dataset.ShakespeareChars, prepared_data_dir)
  w = registry.make_workload('shakespeare_lm')
  texts = {}
  for split in ('train', 'validation', 'test'):
    inputs = w.split_arrays(split, prepared_data_dir)['inputs']
    assert inputs.shape[1:] == (dataset.SEQUENCE_LENGTH,)
    assert 0 < inputs.min() and inputs.max() < dataset.VOCAB_SIZE
    texts[split] = bytes(inputs.astype(np.uint8).ravel()).lower()
  # Characters of Macbeth and Twelfth Night (validation), The Tempest (test).
  held_out = {b'macbeth': 'validation', b'malvolio': 'validation',
              b'caliban': 'test'}
  for name, split in held_out.items():
    assert [s for s, text in texts.items() if name in text] == [split], name
