"""Read TFDS datasets that TensorFlow wrote (TFRecord shards), without it.

AlgoPerf prepares ogbg and WMT with ``tfds.builder(...).download_and_prepare()``
into TFRecord shards of ``tf.train.Example`` protos. This reads them with
TFDS's own bundled proto (``tensorflow_datasets.proto``): each record is
``uint64 length, uint32 masked crc32c(length), data, uint32 masked
crc32c(data)`` (both checksums are verified: a truncated or corrupted shard
is an error naming it).
"""

import json
import pathlib
import re
import struct

import numpy as np

from algoperf.errors import DataError

_CASTAGNOLI = 0x82F63B78
_TABLE = []
for _byte in range(256):
  _crc = _byte
  for _ in range(8):
    _crc = (_crc >> 1) ^ _CASTAGNOLI if _crc & 1 else _crc >> 1
  _TABLE.append(_crc)
_TABLE = tuple(_TABLE)


def crc32c(data: bytes) -> int:
  crc = 0xFFFFFFFF
  for byte in data:
    crc = _TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
  return crc ^ 0xFFFFFFFF


def masked_crc(data: bytes) -> int:
  crc = crc32c(data)
  return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def read_records(path: pathlib.Path, check_data_crc: bool = False):
  """Yields each record's bytes; the length checksum is always verified,
  the data checksum when ``check_data_crc`` (pure Python: slow on big
  shards, so preparation checks the first records of each shard)."""
  with open(path, 'rb') as f:
    number = 0
    while True:
      header = f.read(12)
      if not header:
        return
      if len(header) < 12:
        raise _corrupt(path, number, 'truncated header')
      length, length_crc = struct.unpack('<QI', header)
      if masked_crc(header[:8]) != length_crc:
        raise _corrupt(path, number, 'length checksum mismatch')
      data = f.read(length)
      footer = f.read(4)
      if len(data) < length or len(footer) < 4:
        raise _corrupt(path, number, 'truncated record')
      if (check_data_crc or number < 8) and (
          masked_crc(data) != struct.unpack('<I', footer)[0]):
        raise _corrupt(path, number, 'data checksum mismatch')
      yield data
      number += 1


def _corrupt(path, number, what) -> DataError:
  return DataError(f'{path}: record {number}: {what}. The TFDS shard is '
                   'corrupted or incomplete; delete the dataset folder and '
                   'prepare it again with tfds as AlgoPerf\'s '
                   'dataset_setup.py does.')


def parse_example(data: bytes) -> dict:
  """A tf.train.Example -> {name: 1-D numpy array (or list of bytes)}."""
  from tensorflow_datasets.proto import tf_example_generated_pb2 as pb

  example = pb.Example.FromString(data)
  out = {}
  for name, feature in example.features.feature.items():
    kind = feature.WhichOneof('kind')
    if kind == 'int64_list':
      out[name] = np.asarray(feature.int64_list.value, np.int64)
    elif kind == 'float_list':
      out[name] = np.asarray(feature.float_list.value, np.float32)
    elif kind == 'bytes_list':
      out[name] = list(feature.bytes_list.value)
    else:
      out[name] = np.zeros(0, np.float32)  # An empty feature.
  return out


_SHARD = re.compile(r'^(.+)-(\w+)\.tfrecord-(\d{5})-of-(\d{5})$')


def split_shards(directory: pathlib.Path, split: str) -> list:
  """Every shard of ``split`` in a TFDS dataset folder, in order.

  Raises:
    DataError: no ``dataset_info.json``, no shard, or a shard missing.
  """
  if not (directory / 'dataset_info.json').is_file():
    raise DataError(f'{directory / "dataset_info.json"} is missing: not a '
                    'prepared TFDS dataset folder.')
  shards, totals = [], set()
  for path in sorted(directory.iterdir()):
    match = _SHARD.match(path.name)
    if match and match.group(2) == split:
      shards.append(path)
      totals.add(int(match.group(4)))
  if not shards:
    raise DataError(f'{directory}: no {split!r} TFRecord shards '
                    f'(<name>-{split}.tfrecord-NNNNN-of-NNNNN). Prepare the '
                    'dataset with tfds as AlgoPerf\'s dataset_setup.py does.')
  if len(totals) != 1 or len(shards) != totals.pop():
    raise DataError(f'{directory}: {split!r} has {len(shards)} shards, their '
                    'names promise another count; a shard is missing. '
                    'Prepare the dataset again with tfds.')
  return shards


def split_sizes(directory: pathlib.Path) -> dict:
  """{split: number of examples} from the TFDS dataset_info.json."""
  info = json.loads((directory / 'dataset_info.json').read_text())
  sizes = {}
  for split in info.get('splits', []):
    lengths = split.get('shardLengths') or []
    sizes[split['name']] = sum(int(n) for n in lengths)
  return sizes
