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
  reader = streaming._reader(workload, 'validation', data_dir)  # noqa: SLF001
  decode = streaming._decoder(workload)  # noqa: SLF001
  eval_batch, _ = next(streaming.padded_record_batches(
    reader, lambda records, _: decode(records, 'validation', None),
    len(reader), 2))
  _trace(workload, eval_batch, spec.ForwardPassMode.EVAL)
