"""One example per record: any shapes and dtypes, read back by index."""

import numpy as np
import pytest

from algoperf.data import recordio
from algoperf.errors import DataError

FEATURES = {'image': 'uint8', 'label': 'int32', 'kspace': 'complex64'}


def _example(i):
  return {'image': np.arange(i + 1, dtype=np.uint8), 'label': np.int32(i),
          'kspace': np.full((2, i + 1), 1j * i, np.complex64)}


def test_examples_of_any_shape_come_back_by_index(tmp_path):
  writer = recordio.Writer(tmp_path / 'x.array_record', FEATURES)
  for i in range(5):
    writer.write(_example(i))
  writer.close()
  reader = recordio.Reader(tmp_path / 'x.array_record', FEATURES)
  assert len(reader) == 5
  for got, i in zip(reader.read([4, 0, 2]), (4, 0, 2)):
    want = _example(i)
    for name in FEATURES:
      assert got[name].dtype == want[name].dtype
      assert got[name].shape == np.shape(want[name])  # Scalars stay 0-d.
      np.testing.assert_array_equal(got[name], want[name])


def test_a_value_that_does_not_fit_its_dtype_is_refused():
  with pytest.raises(DataError, match="feature 'label'"):
    recordio.encode({'image': np.zeros(1, np.uint8), 'label': 2.5,
                     'kspace': np.zeros(1, np.complex64)}, FEATURES)


def test_a_truncated_record_is_an_error():
  record = recordio.encode(_example(3), FEATURES)
  with pytest.raises(DataError, match='bytes'):
    recordio.decode(record + b'x', FEATURES)


def test_a_file_that_is_not_array_record_is_named(tmp_path):
  path = tmp_path / 'bad.array_record'
  path.write_bytes(b'not a record file' * 10)
  with pytest.raises(DataError, match='bad.array_record'):
    recordio.Reader(path, FEATURES).read([0])
