"""Batches read by index from prepared records: resumable, sharded, evaluated.

A small model on the prepared Criteo fixture stands in for the full DLRM:
what is under test is the input path (``RecordBatches``, ArrayWorkload's
record path), driven by the real runner.
"""

import flax.linen as nn
import jax.numpy as jnp
import numpy as np
import pytest

from algoperf import base_workload
from algoperf import runner
from algoperf import spec
from algoperf import submission as submission_lib
from algoperf.data import streaming
from tests.conftest import FIXTURES
from workloads.criteo1tb import dataset as criteo


def _reader(prepare, split='train'):
  data_dir = prepare(criteo, 'criteo1tb')
  return criteo.DATASET.open_split(data_dir, split, 'criteo1tb')


def _decode(records, rng):
  return criteo.decode_batch(records, 'train', rng)


def test_batch_k_is_the_same_after_a_restart_at_k(prepare):
  reader = _reader(prepare)
  first = streaming.RecordBatches(reader, _decode, 8, seed=3)
  batches = [first.host_batch_at(k) for k in range(12)]  # 2+ epochs of 46.
  resumed = streaming.RecordBatches(reader, _decode, 8, seed=3, position=7)
  for k in range(7, 12):
    np.testing.assert_array_equal(resumed.host_batch_at(k)['inputs'],
                                  batches[k]['inputs'])
  # Each epoch visits every example once (a permutation per epoch).
  seen = np.concatenate([first.indices_for(k) for k in range(46 * 8 // 8)])
  assert sorted(seen[:46].tolist()) == list(range(46))
  other = streaming.RecordBatches(reader, _decode, 8, seed=4)
  assert not np.array_equal(other.host_batch_at(0)['inputs'],
                            batches[0]['inputs'])


def test_iterating_prefetches_and_counts_the_position(prepare):
  reader = _reader(prepare)
  batches = streaming.RecordBatches(reader, _decode, 4, seed=0, workers=2)
  try:
    got = [next(batches) for _ in range(3)]
  finally:
    batches.close()
  assert batches.position == 3
  np.testing.assert_array_equal(np.asarray(got[2]['inputs']),
                                batches.host_batch_at(2)['inputs'])


def test_eval_batches_cover_each_example_once_then_pad(prepare):
  reader = _reader(prepare, 'validation')  # 17 examples.
  seen, shapes = 0.0, set()
  for batch, mask in streaming.padded_record_batches(
      reader, _decode, len(reader), 8):
    shapes.add(batch['inputs'].shape)
    seen += mask.sum()
  assert seen == 17 and shapes == {(8, 39)}


class _Linear(nn.Module):
  @nn.compact
  def __call__(self, x, *, train, update_batch_norm=False, dropout_rate=0.0):
    del train, update_batch_norm, dropout_rate
    return nn.Dense(1, name='Dense_out')(x / 1e7)[:, 0]


class _TinyCriteo(base_workload.ArrayWorkload):
  """criteo1tb's facts and prepared data (a dataset read by index: the
  record path), a one-layer model."""

  name = 'criteo1tb'
  num_train_examples = 46
  num_eval_train_examples = 17
  num_validation_examples = 17
  num_test_examples = 19
  eval_batch_size = 8
  default_batch_size = 8
  loss_type = spec.LossType.SIGMOID_CROSS_ENTROPY
  dataset_builder = criteo.DATASET
  model_class = _Linear
  decode_workers = 1

  def init_inputs(self):
    return jnp.zeros((1, 39), jnp.float32)

  def eval_metrics(self, logits, batch, mask):
    return {'loss': self.loss_fn(batch['targets'], logits, mask)['summed']}


def test_the_runner_trains_and_evaluates_from_records(prepare, tmp_path):
  data_dir = prepare(criteo, 'criteo1tb')
  workload = _TinyCriteo()
  workload.override_facts(max_allowed_runtime_sec=1e9, eval_every_steps=2)
  config = runner.RunConfig(experiment_dir=str(tmp_path / 'exp'),
                            experiment_name='records', max_steps=3,
                            data_dir=str(data_dir), progress=False)
  result = runner.run_trial(
    workload, submission_lib.load_submission(FIXTURES / 'sgd'), config)
  assert result.status == 'max_steps' and result.global_step == 3
  assert np.isfinite(result.last_eval['validation/loss'])
  assert np.isfinite(result.last_eval['test/loss'])


_TWO_DEVICES = '''
import os, sys
os.environ['XLA_FLAGS'] = '--xla_force_host_platform_device_count=2'
import jax, numpy as np
from algoperf.data import streaming
from workloads.ogbg import dataset as ogbg
reader = ogbg.DATASET.open_split(sys.argv[1], 'train', 'ogbg')
batches = streaming.RecordBatches(
  reader, lambda r, rng: ogbg.decode_batch(r, 'train', rng), 4, seed=0)
batch = next(batches)
batches.close()
nodes = batch['inputs']['nodes']
print('DEVICES', len(jax.devices()), len(nodes.sharding.device_set),
      nodes.shape, batch['weights'].shape)
'''


@pytest.mark.slow  # A fresh process with two (fake) devices.
def test_graph_batches_split_over_two_devices(prepare):
  import subprocess
  import sys

  from workloads.ogbg import dataset as ogbg

  data_dir = prepare(ogbg, 'ogbg')
  done = subprocess.run([sys.executable, '-c', _TWO_DEVICES, str(data_dir)],
                        capture_output=True, text=True, timeout=300,
                        check=False)
  assert done.returncode == 0, done.stderr
  # b = 2 graphs per device: 2 x (26 b + 1) nodes, 2 x (b + 1) graphs.
  assert 'DEVICES 2 2 (106, 9) (6, 128)' in done.stdout, done.stdout
