"""TFDS builder: ZINC molecules (MOSES) with a computed solubility class.

The ``molsets`` 0.3.1 wheel (MOSES, Polykovskiy et al. 2020) ships
``moses/dataset/data/train.csv.gz`` (1,584,663 molecules) and
``test.csv.gz`` (176,074) as SMILES, one per line under a ``SMILES``
header, without labels. The label is computed from the structure: ESOL's
estimate of aqueous solubility, in three classes (``esol.py``). So these
are real molecules with a computed property, not measured solubility.

Splits (deterministic): a fixed-seed permutation of the MOSES train file
gives train (its first NUM_TRAIN molecules) and validation (the next
NUM_VALIDATION); a fixed-seed permutation of the MOSES test file gives test
(its first NUM_TEST). Graphs are encoded and padded exactly as
molecules_gnn's (``workloads/molecules_gnn/dataset.encode_graph``).
"""

import gzip
import pathlib

import numpy as np
import tensorflow_datasets as tfds

from algoperf.data import packages
from algoperf.errors import DataError
from workloads.molecules_gnn import dataset as molecules
from workloads.zinc_gnn import esol

MOLSETS = packages.PinnedPackage(
  name='molsets',
  version='0.3.1',
  filename='molsets-0.3.1-py3-none-any.whl',
  sha256='7f4450e3ebecebe79c3a2a55950c93daddee071120daf64a163d03481e811d34',
)
TRAIN_MEMBER = 'moses/dataset/data/train.csv.gz'
TEST_MEMBER = 'moses/dataset/data/test.csv.gz'
HEADER = 'SMILES'
SPLIT_SEED = 20261202
NUM_TRAIN = 100_000
# Resolving sizes: the SE of an accuracy p on n molecules is
# sqrt(p(1-p)/n); 26,000 keeps it <= 0.25% absolute down to p = 0.80
# (docs/target_resolution.md). The workload may evaluate fewer.
NUM_VALIDATION = 26_000
NUM_TEST = 26_000
SPLIT_SIZES = {'train': NUM_TRAIN, 'validation': NUM_VALIDATION,
               'test': NUM_TEST}


def read_smiles(wheel: pathlib.Path, member: str) -> list[str]:
  """The SMILES column of one gzipped CSV member of the wheel.

  Raises:
    DataError: the member is not a one-column CSV under a SMILES header.
  """
  lines = gzip.decompress(packages.read_member(wheel, member)).decode(
    'ascii').splitlines()
  if not lines or lines[0].strip() != HEADER:
    raise DataError(
      f'{wheel.name}:{member}: expected a CSV with the single column '
      f'{HEADER!r}, found header {lines[0][:80] if lines else "(empty)"!r}.')
  return [line.strip() for line in lines[1:] if line.strip()]


def select(train_file: list, test_file: list) -> dict[str, list]:
  """{split: [(line number in its file, SMILES)]}, fixed-seed subsets.

  Raises:
    DataError: a file holds fewer molecules than the splits need.
  """
  for name, rows, needed in (('train', train_file, NUM_TRAIN + NUM_VALIDATION),
                             ('test', test_file, NUM_TEST)):
    if len(rows) < needed:
      raise DataError(f'The MOSES {name} file has {len(rows)} molecules; the '
                      f'splits need {needed}.')
  rng = np.random.default_rng(SPLIT_SEED)
  train_order = rng.permutation(len(train_file))
  test_order = rng.permutation(len(test_file))
  chosen = {
    'train': (train_file, TRAIN_MEMBER, train_order[:NUM_TRAIN]),
    'validation': (train_file, TRAIN_MEMBER,
                   train_order[NUM_TRAIN:NUM_TRAIN + NUM_VALIDATION]),
    'test': (test_file, TEST_MEMBER, test_order[:NUM_TEST]),
  }
  # Line numbers count the header as line 1, so a molecule's first line is 2.
  return {split: [(f'{member}:{i + 2}', rows[i]) for i in sorted(indices)]
          for split, (rows, member, indices) in chosen.items()}


def encode(smiles: str, where: str) -> dict[str, np.ndarray]:
  """One padded graph with its ESOL class and ESOL logS."""
  molecule = esol.parse_smiles(smiles, where)
  log_s = esol.log_solubility(molecule)
  return {
    **molecules.encode_graph(esol.graph_molecule(molecule, where)),
    'targets': esol.solubility_class(log_s),
    'solubility': np.float32(log_s),
  }


class ZincEsolMolecules(tfds.core.GeneratorBasedBuilder):
  """MOSES ZINC molecules with an ESOL class, from a pinned molsets wheel."""

  VERSION = tfds.core.Version('1.0.0')
  RELEASE_NOTES = {
    '1.0.0': 'molsets 0.3.1 (MOSES) SMILES, ESOL classes, 100k/26k/26k.'}
  # RDKit parses ~150,000 molecules: minutes, so the contract tests
  # prepare it in the slow suite only.
  slow_to_prepare = True

  def _info(self):
    return tfds.core.DatasetInfo(
      builder=self, description=__doc__,
      features=molecules.graph_features())

  def _split_generators(self, dl_manager):
    esol._rdkit()  # A missing RDKit is a clear error before the download.
    wheel = packages.fetch_pinned_package(
      MOLSETS, pathlib.Path(dl_manager.download_dir))
    splits = select(read_smiles(wheel, TRAIN_MEMBER),
                    read_smiles(wheel, TEST_MEMBER))
    return {split: self._generate_examples(rows)
            for split, rows in splits.items()}

  def _generate_examples(self, rows):
    for where, smiles in rows:
      yield where, encode(smiles, where)
