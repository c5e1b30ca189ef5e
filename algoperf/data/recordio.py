"""Examples of any shape in array_record files, read back by index.

The AlgoPerf suite's datasets hold variable-length examples (JPEG bytes,
audio, token ids, graphs) too large for memory, so they are not TFDS
feature dicts of fixed shapes but array_record files (group size 1: any
record is one seek away) whose records are one example each. A record is
the example's arrays in the dataset's feature order, each as its rank,
its shape and its raw little-endian bytes; names and dtypes are stored
once, in the dataset's ``dataset_info.json`` (``features``). No pickle, no
TensorFlow.
"""

import struct

import numpy as np

from algoperf.errors import DataError

_U32 = struct.Struct('<I')


def encode(example: dict, features: dict) -> bytes:
  """One example (``{name: array}``) as a record; ``features``: name -> dtype.

  Raises:
    DataError: a feature is missing or cannot be cast losslessly.
  """
  parts = []
  for name, dtype in features.items():
    if name not in example:
      raise DataError(f'example has no feature {name!r} (has '
                      f'{sorted(example)})')
    value = np.asarray(example[name])
    if value.dtype != np.dtype(dtype):
      cast = value.astype(dtype)
      if value.dtype.kind != 'O' and not np.array_equal(cast, value):
        raise DataError(f'feature {name!r}: {value.dtype} values do not fit '
                        f'{dtype}')
      value = cast
    # np.require keeps a scalar 0-d (ascontiguousarray would make it 1-d).
    value = np.require(value, np.dtype(dtype).newbyteorder('<'), 'C')
    parts.append(_U32.pack(value.ndim))
    parts.extend(_U32.pack(d) for d in value.shape)
    parts.append(value.tobytes())
  return b''.join(parts)


def decode(record: bytes, features: dict) -> dict:
  """The example ``encode`` wrote (read-only views into ``record``)."""
  out, offset = {}, 0
  view = memoryview(record)
  for name, dtype in features.items():
    (ndim,) = _U32.unpack_from(view, offset)
    offset += 4
    shape = struct.unpack_from(f'<{ndim}I', view, offset)
    offset += 4 * ndim
    dtype = np.dtype(dtype).newbyteorder('<')
    count = int(np.prod(shape, dtype=np.int64))
    out[name] = np.frombuffer(view, dtype, count, offset).reshape(shape)
    offset += count * dtype.itemsize
  if offset != len(record):
    raise DataError(f'record has {len(record)} bytes, its features '
                    f'{list(features)} account for {offset}')
  return out


class Writer:
  """Appends encoded examples to one array_record file."""

  def __init__(self, path, features: dict):
    from array_record.python import array_record_module

    self._features = features
    self._writer = array_record_module.ArrayRecordWriter(
      str(path), 'group_size:1')
    self.count = 0

  def write(self, example: dict) -> None:
    self._writer.write(encode(example, self._features))
    self.count += 1

  def close(self) -> None:
    self._writer.close()


class Reader:
  """Random access to one array_record file of encoded examples."""

  def __init__(self, path, features: dict):
    from array_record.python import array_record_module

    self.path = path
    self._features = features
    try:
      self._reader = array_record_module.ArrayRecordReader(
        str(path), 'readahead_buffer_size:0')
    except Exception as e:  # noqa: BLE001 -- riegeli raises plain errors.
      raise DataError(f'{path} cannot be opened as array_record '
                      f'({type(e).__name__}: {str(e)[:200]})') from None

  def __len__(self) -> int:
    return self._reader.num_records()

  def read(self, indices) -> list:
    """The examples at ``indices``, in that order (parallel reads)."""
    indices = [int(i) for i in indices]
    try:
      records = self._reader.read(indices)
    except Exception as e:  # noqa: BLE001
      raise DataError(f'{self.path}: cannot read records ({type(e).__name__}'
                      f': {str(e)[:200]})') from None
    return [decode(r, self._features) for r in records]

  def close(self) -> None:
    self._reader.close()
