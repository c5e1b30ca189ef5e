"""Criteo 1TB click logs from the user's tab-separated day files, as records.

Data side of criteo1tb (AlgoPerf 2c90454, ``criteo1tb/input_pipeline.py``).
Each line -- label, 13 integer fields, 26 categorical fields (hex), tab
separated, empty fields missing -- is parsed at preparation into
AlgoPerf's model input, stored per example: ``inputs`` float32 [39]
(``log(max(x, 0) + 1)`` of the integers, missing = -1; then each
categorical field ``i`` hashed as TensorFlow's ``to_hash_bucket_fast(field
+ str(i), VOCAB_SIZES[i])`` -- FarmHash Fingerprint64 modulo the column's
vocabulary -- and cast to float32 as AlgoPerf does) and ``targets``
float32, as memory-mapped columns (``<split>.inputs.bin``,
``<split>.targets.bin``: a batch of random indices is one gather). Splits:
train = days 0-22; from day 23's 36 files, test =
``day_23_00`` .. ``day_23_18``, validation = ``day_23_19`` .. ``day_23_35``.

``--source`` holds what AlgoPerf's ``dataset_setup.py --criteo1tb``
leaves: ``day_<d>_<nn>`` files (each day split into 5,000,000-line files,
``split -a 2 -d``), or unsplit ``day_<d>`` / ``day_<d>.csv`` files for days
0-22.
"""

import os
import re

import numpy as np

from algoperf.data import raw
from algoperf.errors import DataError

NUM_DENSE = 13
VOCAB_SIZES = (
  39884406, 39043, 17289, 7420, 20263, 3, 7120, 1543, 63, 38532951, 2953546,
  403346, 10, 2208, 11938, 155, 4, 976, 14, 39979771, 25641295, 39664984,
  585935, 12972, 108, 36)
NUM_DAY_23_FILES = 36
NUM_TEST_FILES = NUM_DAY_23_FILES // 2 + 1  # AlgoPerf: test gets the odd one.
_DAY_FILE = re.compile(r'^day_(\d+)(?:_(\d+)|\.csv)?$')
# Bytes per stored example: 39 + 1 float32 columns.
_RECORD_BYTES = 4 * 40


class Criteo1TB(raw.RawDataset):
  name = 'criteo1tb'
  features = {'inputs': 'float32', 'targets': 'float32'}
  # 4.4 billion fixed-shape clicks: memory-mapped columns, one gather per
  # batch (recordio.ColumnWriter), not one record per click.
  columns = {'inputs': (39,), 'targets': ()}
  source_layout = (
    'day_0_00 .. day_22_<nn> and day_23_00 .. day_23_35 (tab-separated '
    'Criteo 1TB day files split by AlgoPerf\'s dataset_setup.py '
    '--criteo1tb; unsplit day_<d> or day_<d>.csv files work for days 0-22).')

  def plan(self, source):
    by_day = {}
    for path in sorted(source.iterdir()):
      match = _DAY_FILE.match(path.name)
      if match and path.is_file():
        by_day.setdefault(int(match.group(1)), []).append(path)
    missing = [d for d in range(23) if d not in by_day]
    if missing:
      raise self.missing(source / f'day_{missing[0]}_00',
                         f'no file for day(s) {missing[:5]}')
    day_23 = [source / f'day_23_{i:02d}' for i in range(NUM_DAY_23_FILES)]
    for path in day_23:
      if not path.is_file():
        raise self.missing(path, 'day 23 is read as its 36 split files')
    files = {'train': [p for d in range(23) for p in by_day[d]],
             'test': day_23[:NUM_TEST_FILES],
             'validation': day_23[NUM_TEST_FILES:]}
    size = raw.file_size(files['train'] + day_23)
    lines = size / _mean_line_bytes(files['train'][0])
    return raw.Plan(files=files,
                    estimate_bytes=int(lines * _RECORD_BYTES) + (1 << 20))

  def examples(self, split, plan, source):
    """Blocks of parsed lines, in file order, parsed by a process per core
    (about 24 us of CPU per line: 4.4 billion lines are ~29 CPU-hours)."""
    chunks = [(path, start, stop) for path in plan.files[split]
              for start, stop in _byte_ranges(path)]
    workers = min(os.cpu_count() or 1, len(chunks))
    if workers <= 1 or raw.file_size(plan.files[split]) < 4 * _CHUNK_BYTES:
      yield from (parse_chunk(chunk) for chunk in chunks)
      return
    import multiprocessing

    with multiprocessing.get_context('spawn').Pool(workers) as pool:
      yield from pool.imap(parse_chunk, chunks)


_CHUNK_BYTES = 32 << 20


def _byte_ranges(path):
  size = path.stat().st_size
  return [(start, min(start + _CHUNK_BYTES, size))
          for start in range(0, size, _CHUNK_BYTES)] or [(0, 0)]


def parse_chunk(chunk) -> raw.Block:
  """The lines starting in bytes [start, stop) of a file, as columns (a
  line belongs to the chunk its first byte is in)."""
  path, start, stop = chunk
  inputs, targets = [], []
  with open(path, 'rb') as f:
    f.seek(start)
    if start:
      f.seek(start - 1)
      f.readline()  # The line that began before this chunk.
    while f.tell() < stop:
      line = f.readline()
      if not line:
        break
      if not line.strip():
        continue
      example = parse_line(line, f'{path}, the line at byte '
                                 f'{f.tell() - len(line)}')
      inputs.append(example['inputs'])
      targets.append(example['targets'])
  return raw.Block(inputs=np.asarray(inputs, np.float32).reshape(-1, 39),
                   targets=np.asarray(targets, np.float32))


def _mean_line_bytes(path) -> float:
  with open(path, 'rb') as f:
    head = f.read(1 << 20)
  lines = head.count(b'\n')
  return len(head) / lines if lines else 200.0


def _fingerprint64(data: bytes) -> int:
  import farmhash

  return farmhash.fingerprint64(data)


def parse_line(line: bytes, where: str = '<line>') -> dict:
  """One Criteo line -> AlgoPerf's ``inputs`` [39] and ``targets``."""
  fields = line.rstrip(b'\r\n').split(b'\t')
  if len(fields) != 1 + NUM_DENSE + len(VOCAB_SIZES):
    raise DataError(f'{where}: {len(fields)} tab-separated fields, '
                    f'Criteo lines have {1 + NUM_DENSE + len(VOCAB_SIZES)} '
                    '(label, 13 integers, 26 categorical). Restore the file '
                    'from the original day file.')
  # decode_csv(na_value='-1'): an empty field or '-1' takes the default
  # (0.0; '00000000' for categorical fields).
  fields = [b'' if f == b'-1' else f for f in fields]
  try:
    label = np.float32(fields[0] or 0.0)
    dense = np.array([float(x) if x else 0.0
                      for x in fields[1:1 + NUM_DENSE]], np.float32)
  except ValueError:
    raise DataError(f'{where}: a label or integer field is not a '
                    'number; restore the file from the original day file.'
                    ) from None
  # In float32, as AlgoPerf's tf ops compute it.
  values = list(np.log(np.maximum(dense, np.float32(0)) + np.float32(1)))
  for i, field in enumerate(fields[1 + NUM_DENSE:]):
    field = field or b'00000000'
    values.append(_fingerprint64(field + str(i).encode()) % VOCAB_SIZES[i])
  return {'inputs': np.asarray(values, np.float32),
          'targets': label}


DATASET = Criteo1TB()


def decode_batch(records, split: str, rng) -> dict:
  """Stored examples -> {'inputs': [B, 39] f32, 'targets': [B] f32}.

  ``records``: the columns of the batch (``{feature: array}``, the input
  queue's form) or a list of examples.
  """
  del split, rng
  if isinstance(records, dict):
    return {'inputs': np.asarray(records['inputs'], np.float32),
            'targets': np.asarray(records['targets'], np.float32)}
  return {
    'inputs': np.stack([r['inputs'] for r in records]),
    'targets': np.array([float(r['targets']) for r in records], np.float32),
  }

# The name the model side imports (workload.py: dataset_builder).
BUILDER = DATASET
