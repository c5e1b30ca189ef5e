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

import pathlib
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


class ColumnWriter:
  """Fixed-shape examples as one raw little-endian file per feature.

  For datasets of billions of small examples (Criteo): a batch of random
  indices is then one NumPy gather per feature from a memory map, not a
  Python decode per example.
  """

  def __init__(self, directory, split: str, features: dict, shapes: dict):
    self._features, self._shapes = features, shapes
    self._files = {name: open(pathlib.Path(directory) / column_file(
      split, name), 'wb', buffering=1 << 20) for name in features}
    self.count = 0

  def write(self, example: dict) -> None:
    for name, dtype in self._features.items():
      value = np.asarray(example[name], np.dtype(dtype).newbyteorder('<'))
      if value.shape != tuple(self._shapes[name]):
        raise DataError(f'feature {name!r} has shape {value.shape}, the '
                        f'dataset stores {tuple(self._shapes[name])}')
      self._files[name].write(value.tobytes())
    self.count += 1

  def write_block(self, block: dict) -> None:
    """Many examples at once: ``{feature: array [n, *shape]}``."""
    sizes = {len(block[name]) for name in self._features}
    if len(sizes) != 1:
      raise DataError(f'a block\'s features have different lengths {sizes}')
    for name, dtype in self._features.items():
      value = np.asarray(block[name], np.dtype(dtype).newbyteorder('<'))
      if value.shape[1:] != tuple(self._shapes[name]):
        raise DataError(f'feature {name!r} has shape {value.shape[1:]} per '
                        f'example, the dataset stores '
                        f'{tuple(self._shapes[name])}')
      self._files[name].write(np.ascontiguousarray(value).tobytes())
    self.count += sizes.pop()

  def close(self) -> None:
    for f in self._files.values():
      f.close()


def column_file(split: str, name: str) -> str:
  return f'{split}.{name}.bin'


class ColumnReader:
  """Random access to a ``ColumnWriter`` split through memory maps."""

  def __init__(self, directory, split: str, features: dict, shapes: dict,
               count: int):
    self._columns = {}
    for name, dtype in features.items():
      path = pathlib.Path(directory) / column_file(split, name)
      shape = (count, *shapes[name])
      dtype = np.dtype(dtype).newbyteorder('<')
      expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
      if not path.is_file() or path.stat().st_size != expected:
        raise DataError(f'{path} is missing or has the wrong size (expected '
                        f'{expected} bytes for {count} examples)')
      self._columns[name] = (np.memmap(path, dtype, 'r', shape=shape)
                             if count else np.zeros(shape, dtype))
    self._count = count

  def __len__(self) -> int:
    return self._count

  def read_columns(self, indices) -> dict:
    """{feature: array [len(indices), ...]}, in the order of ``indices``."""
    indices = np.asarray(indices, np.int64)
    return {name: np.asarray(column[indices])
            for name, column in self._columns.items()}

  def read(self, indices) -> list:
    columns = self.read_columns(indices)
    return [{name: values[i] for name, values in columns.items()}
            for i in range(len(indices))]

  def close(self) -> None:
    self._columns = {}
