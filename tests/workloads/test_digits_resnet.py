"""digits_resnet: BatchNorm state, BatchNorm parameter types, block init.

What every workload must do (train, evaluate, prepare) is checked for this
family by tests/contract/test_workloads.py.
"""

import jax
import numpy as np
import pytest

from algoperf import param_types
from algoperf import registry
from algoperf import spec
from tests.conftest import abstract_params


def test_batch_norm_state_changes_only_when_updating():
  workload = registry.make_workload('digits_resnet')
  workload.use_synthetic_data(16)
  rng = jax.random.PRNGKey(0)
  params, state = workload.init_model_fn(rng)
  assert set(state) == {'batch_stats'}
  batch = next(workload._build_input_queue(rng, 'train', None, 8))
  forward = jax.jit(workload.model_fn,
                    static_argnames=('mode', 'update_batch_norm'))
  before = jax.tree.leaves(state)
  for update in (False, True):
    _, after = forward(params, batch, state, mode=spec.ForwardPassMode.TRAIN,
                       rng=rng, update_batch_norm=update)
    changed = [not np.array_equal(a, b)
               for a, b in zip(before, jax.tree.leaves(after))]
    assert all(changed) if update else not any(changed), (
      f'update_batch_norm={update}: batch statistics changed {changed}')


def test_batch_norm_parameters_are_typed_as_batch_norm():
  types = jax.tree.leaves(param_types.infer_param_types(
    abstract_params('digits_resnet')))
  bn = {spec.ParameterType.BATCH_NORM_SCALE, spec.ParameterType.BATCH_NORM_BIAS}
  # Stem + 2 per block + 2 projection shortcuts, a scale and a bias each.
  assert sum(t in bn for t in types) == 2 * (1 + 2 * 3 + 2)


@pytest.mark.parametrize('name',
                         ['digits_resnet', 'digits_resnet_large_bn_init'])
def test_each_block_s_last_batch_norm_scale_starts_at_bn_init_scale(name):
  workload = registry.make_workload(name)
  params, _ = workload.init_model_fn(jax.random.PRNGKey(0))
  for block in ('ResidualBlock_0', 'ResidualBlock_1', 'ResidualBlock_2'):
    np.testing.assert_array_equal(params[block]['BatchNorm_1']['scale'],
                                  workload.bn_init_scale)
