"""mnist and its variants: one real step, eval keys, determinism."""

import jax
import numpy as np
import pytest

from algoperf import spec
from algoperf import registry

NAMES = ('mnist', 'mnist_relu', 'mnist_deep')


def _losses(workload, seed, steps):
  params, state = workload.init_model_fn(jax.random.PRNGKey(seed))
  queue = workload._build_input_queue(jax.random.PRNGKey(seed), 'train',
                                      None, 16)

  @jax.jit
  def step(params, batch):
    def loss_fn(p):
      logits, _ = workload.model_fn(p, batch, state,
                                    spec.ForwardPassMode.TRAIN,
                                    jax.random.PRNGKey(0), True, 0.0)
      out = workload.loss_fn(batch['targets'], logits)
      return out['summed'] / out['n_valid_examples']
    loss, grads = jax.value_and_grad(loss_fn)(params)
    return jax.tree.map(lambda p, g: p - 0.1 * g, params, grads), loss

  losses = []
  for _ in range(steps):
    params, loss = step(params, next(queue))
    losses.append(float(loss))
  queue.close()
  return losses, params


@pytest.mark.parametrize('name', NAMES)
def test_one_step_and_eval(name):
  workload = registry.make_workload(name)
  workload.use_synthetic_data(32)
  losses, params = _losses(workload, 0, 1)
  assert np.isfinite(losses[0])
  results = workload.eval_model(32, params, None, None, None, None, 1)
  assert {'validation/accuracy', 'validation/loss', 'test/accuracy',
          'train/loss'} <= set(results)
  assert all(np.isfinite(v) for v in results.values())
  if name != 'mnist':
    assert workload.base_name == 'mnist'


def test_same_seed_same_first_ten_losses():
  workload = registry.make_workload('mnist')
  workload.use_synthetic_data(64)
  first, _ = _losses(workload, 3, 10)
  again, _ = _losses(workload, 3, 10)
  other, _ = _losses(workload, 4, 10)
  assert first == again
  assert first != other


def test_variants_change_one_detail():
  base = registry.make_workload('mnist')._model
  relu = registry.make_workload('mnist_relu')._model
  deep = registry.make_workload('mnist_deep')._model
  assert relu.activation is not base.activation
  assert relu.num_hidden == base.num_hidden
  assert deep.num_hidden == 4 and deep.activation is base.activation
