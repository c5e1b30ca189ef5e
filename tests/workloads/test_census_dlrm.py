"""census_dlrm: dot interactions, the criteo1tb loss, its variants' details,
and the normalisation statistics against the prepared table.

What every workload must do (train, evaluate, prepare) is checked for this
family by tests/contract/test_workloads.py.
"""

import jax
import jax.numpy as jnp
import numpy as np

from algoperf import param_types
from algoperf import registry
from algoperf import spec
from algoperf.data import prepared
from tests.conftest import abstract_params
from tests.conftest import prepare_once
from workloads.census_dlrm import dataset
from workloads.census_dlrm import model


def test_dot_interactions_are_the_distinct_pairs():
  vectors = jnp.arange(2 * 3 * 2, dtype=jnp.float32).reshape(2, 3, 2)
  out = model.dot_interactions(vectors)
  assert out.shape == (2, 3)
  v = np.asarray(vectors[1])
  expected = [v[1] @ v[0], v[2] @ v[0], v[2] @ v[1]]
  np.testing.assert_allclose(out[1], expected)


def test_label_smoothing_is_ignored_as_criteo1tb_ignores_it():
  workload = registry.make_workload('census_dlrm')
  labels = jnp.array([0.0, 1.0, 1.0, 0.0])
  logits = jnp.array([[-3.0], [2.5], [-0.5], [0.7]])
  plain = workload.loss_fn(labels, logits)
  smoothed = workload.loss_fn(labels, logits, label_smoothing=0.2)
  np.testing.assert_array_equal(smoothed['per_example'], plain['per_example'])
  # The unsmoothed log-loss, by hand: -log(sigmoid(z)) for label 1, etc.
  p = 1 / (1 + np.exp(-np.array([-3.0, 2.5, -0.5, 0.7])))
  by_hand = -np.log(np.array([1 - p[0], p[1], p[2], 1 - p[3]]))
  np.testing.assert_allclose(plain['per_example'], by_hand, rtol=1e-6)


def test_one_shared_embedding_table_typed_as_embedding():
  params = abstract_params('census_dlrm')
  workload = registry.make_workload('census_dlrm')
  assert params['embedding'].shape == (dataset.VOCAB_SIZE, workload.embed_dim)
  types = param_types.infer_param_types(params)
  assert types['embedding'] == spec.ParameterType.EMBEDDING


def test_variants_change_the_embedding_init_or_add_layer_norms():
  rng = jax.random.PRNGKey(0)
  base, _ = registry.make_workload('census_dlrm').init_model_fn(rng)
  wide, _ = registry.make_workload('census_dlrm_embed_init').init_model_fn(rng)
  assert float(jnp.std(wide['embedding'])) > 5 * float(
    jnp.std(base['embedding']))
  normed = abstract_params('census_dlrm_layernorm')
  assert set(normed) - set(base) == {
    'bottom_0_layernorm', 'bottom_1_layernorm', 'top_0_layernorm',
    'top_1_layernorm'}


def test_normalisation_statistics_are_the_prepared_train_split_s(
    prepared_data_dir):
  prepare_once(dataset.AdultCensus, prepared_data_dir)
  raw = prepared.load_split(dataset.AdultCensus, 'train', prepared_data_dir,
                            'census_dlrm')
  workload_cls = registry.get_workload_class('census_dlrm')
  np.testing.assert_allclose(raw['numeric'].mean(0), workload_cls.train_mean,
                             atol=1e-3)
  np.testing.assert_allclose(raw['numeric'].std(0), workload_cls.train_stddev,
                             atol=1e-3)
  assert raw['categorical'].min() >= 1
  assert raw['categorical'].max() < dataset.VOCAB_SIZE
  assert 0.2 < raw['targets'].mean() < 0.3  # About 24% earn >50K.
