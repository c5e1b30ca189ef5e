"""The data side's batches fit the model side's workloads (AlgoPerf suite).

For each family: the miniature raw fixture is prepared, the workload
(workloads/<family>/workload.py, the model side) reads a training and an
eval batch through its own input queue and evaluation reader, and its
``model_fn`` is traced on them with ``jax.eval_shape`` (shapes only: no
full-size compile). Skips a family, saying so, while its model side is not
in this checkout.
"""

import importlib.util

import jax
import pytest

from algoperf import registry
from algoperf import spec
from algoperf.data import streaming
from tests.algoperf.data.conftest import RAW
from tests.algoperf.data.conftest import fixture_writer

# family -> fixture folder (None: generated, fastMRI's 101 volumes).
FAMILIES = {'criteo1tb': 'criteo1tb', 'fastmri': None,
            'imagenet_resnet': 'imagenet', 'imagenet_vit': 'imagenet',
            'librispeech_conformer': 'librispeech',
            'librispeech_deepspeech': 'librispeech', 'ogbg': 'ogbg',
            'wmt': 'wmt'}


def _signature(batch):
  return jax.tree_util.tree_structure(batch), [
    (tuple(x.shape), str(x.dtype)) for x in jax.tree_util.tree_leaves(batch)]


def _trace(workload, batch, mode):
  rng = jax.random.PRNGKey(0)
  variables = jax.eval_shape(
    lambda: workload._model.init(  # noqa: SLF001
      {'params': rng, 'dropout': rng}, workload.init_inputs(), train=False))
  variables = dict(variables)
  params = variables.pop('params')
  model_state = variables or None
  train = mode == spec.ForwardPassMode.TRAIN
  return jax.eval_shape(
    lambda p, s, b: workload.model_fn(p, b, s, mode, rng,
                                      update_batch_norm=train)[0],
    params, model_state, batch)


@pytest.mark.slow  # Traces every full-size model (seconds each).
@pytest.mark.parametrize('family', sorted(FAMILIES))
def test_batches_fit_the_model(family, tmp_path_factory):
  if importlib.util.find_spec(f'workloads.{family}.workload') is None:
    pytest.skip(f'workloads/{family}/workload.py (the model side) is not '
                'in this checkout yet')
  workload = registry.make_workload(family)
  data_dir = tmp_path_factory.mktemp(family)
  source = RAW / (FAMILIES[family] or '')
  if FAMILIES[family] is None:
    source = tmp_path_factory.mktemp(f'{family}_raw')
    getattr(fixture_writer(), family)(source)
  workload.dataset_builder.prepare(source, data_dir)
  queue = workload._build_input_queue(  # noqa: SLF001
    jax.random.PRNGKey(0), 'train', str(data_dir), 2)
  assert isinstance(queue, streaming.RecordBatches)
  try:
    train_batch = next(queue)
  finally:
    queue.close()
  _trace(workload, train_batch, spec.ForwardPassMode.TRAIN)
  # The warm-up process compiles on synthetic batches: the records' batches
  # must have the same structure, shapes and dtypes, or the timed process
  # compiles again, on the clock.
  synthetic = registry.make_workload(family)
  synthetic.use_synthetic_data(8)
  queue = synthetic._build_input_queue(  # noqa: SLF001
    jax.random.PRNGKey(0), 'train', None, 2)
  try:
    synthetic_batch = next(queue)
  finally:
    queue.close()
  assert _signature(train_batch) == _signature(synthetic_batch)
  reader = streaming._reader(workload, 'validation', data_dir)  # noqa: SLF001
  decode = streaming._decoder(workload)  # noqa: SLF001
  eval_batch, _ = next(streaming.padded_record_batches(
    reader, lambda records, _: decode(records, 'validation', None),
    len(reader), 2))
  _trace(workload, eval_batch, spec.ForwardPassMode.EVAL)


@pytest.mark.slow  # Runs the model side's own evaluation (small models).
@pytest.mark.parametrize('family', ['ogbg', 'wmt', 'librispeech_conformer'])
def test_the_model_sides_own_evaluation_reads_prepared_splits(
    family, tmp_path_factory):
  """These families evaluate over whole splits (mAP, BLEU, WER) through
  ``split_arrays``: for prepared records it serves the eval split in their
  stored form (eval_train: only its first examples)."""
  if importlib.util.find_spec(f'workloads.{family}.workload') is None:
    pytest.skip(f'workloads/{family}/workload.py (the model side) is not '
                'in this checkout yet')
  workload = registry.make_workload(family)
  data_dir = tmp_path_factory.mktemp(family)
  workload.dataset_builder.prepare(RAW / FAMILIES[family], data_dir)
  arrays = workload.split_arrays('validation', data_dir)
  reader = workload.dataset_builder.open_split(data_dir, 'validation', 'x')
  assert {len(v) for v in arrays.values()} == {len(reader)}
  for key in workload.input_keys:
    if key in arrays:
      synthetic = workload.synthetic_arrays(2, 0)[key]
      assert arrays[key].shape[2:] == synthetic.shape[2:], key
      assert arrays[key].dtype.kind == synthetic.dtype.kind, key
  eval_train = workload.split_arrays('eval_train', data_dir)
  assert {len(v) for v in eval_train.values()} == {
    min(workload.num_eval_train_examples, len(
      workload.dataset_builder.open_split(data_dir, 'train', 'x')))}
