"""zinc_gnn: the ESOL label, the SMILES -> graph conversion, and the
builder on a miniature molsets wheel (no network).

What every workload must do (train, evaluate, prepare the real data) is
checked for this family by tests/contract/test_workloads.py (its real
preparation is in the slow suite).
"""

import gzip
import pathlib
import zipfile

import numpy as np
import pytest

from algoperf.data import packages
from algoperf.data import prepared
from algoperf.errors import DataError
from workloads.molecules_gnn import dataset as molecules
from workloads.zinc_gnn import dataset
from workloads.zinc_gnn import esol

pytest.importorskip('rdkit')  # The `test` extra installs it.

C, H = 12.011, 1.008  # Atomic weights (MolWt's).
# Wildman-Crippen atom contributions: aromatic CH and substituted aromatic
# C (C18, C21), aliphatic CH3/CH2 (C1), CH2 on an aromatic ring (C10), H on
# carbon (H1).
C18, C21, C1, C10, H1 = 0.1581, 0.1360, 0.1441, -0.0516, 0.1230


def _esol(clogp, mw, rotatable, aromatic_proportion):
  return (0.16 - 0.63 * clogp - 0.0062 * mw + 0.066 * rotatable
          - 0.74 * aromatic_proportion)


@pytest.mark.parametrize('smiles, by_hand', [
  # Benzene: six aromatic CH, nothing rotatable, all atoms aromatic.
  ('c1ccccc1', _esol(6 * C18 + 6 * H1, 6 * C + 6 * H, 0, 1.0)),
  # Butylbenzene: three rotatable bonds (ring-CH2, CH2-CH2, CH2-CH2; the
  # bond to the terminal CH3 is not), 6 of 10 heavy atoms aromatic.
  ('CCCCc1ccccc1', _esol(5 * C18 + C21 + 3 * C1 + C10 + 14 * H1,
                         10 * C + 14 * H, 3, 0.6)),
])
def test_esol_matches_a_hand_computation(smiles, by_hand):
  molecule = esol.parse_smiles(smiles, 'hand')
  assert esol.log_solubility(molecule) == pytest.approx(by_hand, abs=1e-6)


def test_classes_split_at_the_documented_thresholds():
  low, high = esol.LOW_BELOW, esol.HIGH_FROM
  assert [esol.solubility_class(v) for v in
          (low - 0.01, low, high - 0.01, high, 0.0)] == [0, 1, 1, 2, 2]


def test_graph_molecule_is_kekulized_with_rdkits_hydrogens():
  # Pyrrole: the [nH] keeps its hydrogen through the valence table.
  molecule = esol.parse_smiles('c1cc[nH]c1', 'pyrrole')
  graph = esol.graph_molecule(molecule, 'pyrrole')
  assert graph.elements == ['C', 'C', 'C', 'N', 'C']
  assert sorted(order for _, _, order in graph.bonds) == [1, 1, 1, 2, 2]
  assert graph.implicit_hydrogens() == [
    atom.GetTotalNumHs() for atom in molecule.GetAtoms()]
  encoded = molecules.encode_graph(graph)
  assert encoded['num_nodes'] == 5 and encoded['num_edges'] == 10


def test_unparsable_smiles_names_the_file_and_line():
  with pytest.raises(DataError, match=r'train\.csv\.gz:7.*C1CC\(') as e:
    dataset.encode('C1CC(', 'moses/dataset/data/train.csv.gz:7')
  assert 'pinned file' in str(e.value)


# ZINC-like molecules; the miniature wheel's train file holds the first
# seven, its test file the last four.
SMILES = ['CCO', 'c1ccccc1', 'CCCCc1ccccc1', 'OCc1ccccc1', 'CC(=O)Nc1ccccc1',
          'Clc1ccc(Br)cc1', 'CCN(CC)C(=O)c1cccnc1', 'O=C(O)c1ccccc1O',
          'CC(C)Cc1ccc(cc1)C(C)C(=O)O', 'c1ccc2[nH]ccc2c1', 'FC(F)(F)c1ccccc1']


def _csv_gz(rows) -> bytes:
  return gzip.compress(('SMILES\n' + '\n'.join(rows) + '\n').encode())


def _miniature_wheel(directory: pathlib.Path, train, test):
  directory.mkdir(parents=True, exist_ok=True)
  path = directory / 'molsets-mini.whl'
  with zipfile.ZipFile(path, 'w') as wheel:
    wheel.writestr(dataset.TRAIN_MEMBER, _csv_gz(train))
    wheel.writestr(dataset.TEST_MEMBER, _csv_gz(test))
  return packages.PinnedPackage('molsets', '0.3.1', path.name,
                                packages.sha256_of(path))


@pytest.fixture
def miniature(tmp_path, monkeypatch):
  """A miniature molsets wheel in the download folder, pinned; 4/2/3."""
  pin = _miniature_wheel(tmp_path / 'downloads', SMILES[:7], SMILES[7:])
  monkeypatch.setattr(dataset, 'MOLSETS', pin)
  monkeypatch.setattr(dataset, 'NUM_TRAIN', 4)
  monkeypatch.setattr(dataset, 'NUM_VALIDATION', 2)
  monkeypatch.setattr(dataset, 'NUM_TEST', 3)
  return tmp_path


def test_builder_prepares_disjoint_labelled_splits_from_the_wheel(miniature):
  builder = prepared.prepare(dataset.ZincEsolMolecules, miniature)
  sizes = {k: v.num_examples for k, v in builder.info.splits.items()}
  assert sizes == {'train': 4, 'validation': 2, 'test': 3}
  chosen = dataset.select(SMILES[:7], SMILES[7:])
  assert not {s for _, s in chosen['train']} & {
    s for _, s in chosen['validation']}
  assert {s for _, s in chosen['test']} <= set(SMILES[7:])
  for split, rows in chosen.items():
    stored = prepared.load_split(dataset.ZincEsolMolecules, split, miniature,
                                 'zinc_gnn')
    log_s = [esol.log_solubility(esol.parse_smiles(s, s)) for _, s in rows]
    want = sorted((esol.solubility_class(v), v) for v in log_s)
    # Stored order is TFDS's: compare sorted (class, logS) pairs.
    found = sorted(zip(stored['targets'].tolist(),
                       stored['solubility'].tolist()))
    assert [c for c, _ in found] == [c for c, _ in want], split
    np.testing.assert_allclose([v for _, v in found], [v for _, v in want],
                               atol=1e-5)
    assert stored['nodes'].shape[1:] == (molecules.MAX_ATOMS,
                                         molecules.NUM_ATOM_FEATURES)


def test_selection_is_fixed_and_too_small_a_file_is_refused(monkeypatch):
  monkeypatch.setattr(dataset, 'NUM_TRAIN', 4)
  monkeypatch.setattr(dataset, 'NUM_VALIDATION', 2)
  monkeypatch.setattr(dataset, 'NUM_TEST', 3)
  assert dataset.select(SMILES[:7], SMILES[7:]) == dataset.select(
    SMILES[:7], SMILES[7:])
  with pytest.raises(DataError, match='train file has 5 molecules.*need 6'):
    dataset.select(SMILES[:5], SMILES[7:])


def test_a_csv_without_the_smiles_header_is_refused(tmp_path):
  path = tmp_path / 'bad.whl'
  with zipfile.ZipFile(path, 'w') as wheel:
    wheel.writestr(dataset.TRAIN_MEMBER,
                   gzip.compress(b'smiles,logP\nCCO,0.1\n'))
  with pytest.raises(DataError, match="train.csv.gz.*'SMILES'.*smiles,logP"):
    dataset.read_smiles(path, dataset.TRAIN_MEMBER)
