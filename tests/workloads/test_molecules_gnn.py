"""molecules_gnn: SDF parsing, graph encoding and padding, and the real
molecules' classes and sizes.

What every workload must do (train, evaluate, prepare) is checked for this
family by tests/contract/test_workloads.py.
"""

import jax
import numpy as np
import pytest

from algoperf import registry
from algoperf import spec
from tests.conftest import prepare_once
from workloads.molecules_gnn import dataset
from workloads.molecules_gnn import sdf

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


def test_padding_does_not_change_logits():
  """Garbage in padded slots must not leak into a graph's prediction."""
  workload = registry.make_workload('molecules_gnn')
  workload.use_synthetic_data(8)
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


def test_real_molecules_have_three_classes_within_the_padding(
    prepared_data_dir):
  prepare_once(dataset.SolubilityMolecules, prepared_data_dir)
  workload = registry.make_workload('molecules_gnn')
  validation = workload.split_arrays('validation', prepared_data_dir)
  assert set(np.unique(validation['targets'])) == {0, 1, 2}
  assert validation['node_mask'].sum(axis=1).max() <= dataset.MAX_ATOMS
