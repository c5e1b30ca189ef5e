"""Batches read by index from prepared records: data larger than memory.

``ShuffledBatches`` (base_workload) gathers batch ``k`` from in-memory
arrays through a per-epoch permutation, so the data position (batches
handed out) resumes a trial exactly. ``RecordBatches`` keeps that same
permutation stream and position, and only changes where examples come
from: it reads batch ``k``'s records by index from the split's
array_record file and decodes / augments them with the workload's
``decode_batch`` (seeded by (seed, k), so batch ``k`` is the same after a
resume), in a few threads (JPEG and FLAC decoding release the GIL), then
places the batch on the devices split along its first axis. The
producer thread of ``ShuffledBatches`` prepares the next batches while the
current step computes (prefetch to device).

An ``ArrayWorkload`` opts in by its ``dataset_builder``: a dataset that
reads by index (``raw.RawDataset``, the AlgoPerf suite's) routes its input
queue, evaluation and index view here (``input_queue``, ``evaluate``,
``train_data``), decoding with the workload's ``decode_batch`` if it has one,
else the dataset's. Synthetic data (``use_synthetic_data``) and every
CPU-suite workload (TFDS builders) keep the in-memory path unchanged.
"""

import concurrent.futures
import math
import os

import numpy as np

from algoperf import base_workload
from algoperf import jax_sharding_utils
from algoperf.data import dirs

# Decode threads per queue: enough to overlap JPEG/FLAC decoding with I/O.
_DEFAULT_WORKERS = min(8, os.cpu_count() or 1)


class RecordBatches(base_workload.ShuffledBatches):
  """Infinite, deterministic, resumable batches read from records."""

  _PREFETCH = 4

  def __init__(self, reader, decode_batch, global_batch_size: int, seed: int,
               position: int = 0, workers: int = _DEFAULT_WORKERS):
    self._reader = reader
    self._decode = decode_batch
    self._batch_size = global_batch_size
    self._seed = seed
    self._num = len(reader)
    self.position = position
    self._perm_cache = {}
    self._ready = None
    self._workers = max(1, workers)
    self._pool = None

  def _read(self, indices):
    """Records at ``indices`` (read in chunks by the worker threads), or
    ``{feature: array}`` from a columnar split (one gather per feature)."""
    if hasattr(self._reader, 'read_columns'):
      return self._reader.read_columns(indices)
    if self._workers == 1 or len(indices) < 2 * self._workers:
      return self._reader.read(indices)
    if self._pool is None:
      self._pool = concurrent.futures.ThreadPoolExecutor(self._workers)
    chunks = np.array_split(np.asarray(indices), self._workers)
    parts = self._pool.map(self._reader.read, chunks)
    return [record for part in parts for record in part]

  def host_batch_at(self, position: int) -> dict:
    """Batch ``position`` as numpy arrays (before placement on devices)."""
    idx = self.indices_for(position)
    rng = np.random.default_rng([self._seed, position, 1])
    records = self._read(idx)
    if isinstance(records, dict):  # Columns: nothing per example to mark.
      return self._decode(records, rng)
    for record, index in zip(records, idx):
      # For per-example randomness fixed over a run (fastMRI's masks).
      record['_index'], record['_seed'] = int(index), self._seed
    return self._decode(records, rng)

  def batch_at(self, position: int):
    return jax_sharding_utils.shard_along_batch_dim(
      self.host_batch_at(position))

  def close(self):
    super().close()
    if self._pool is not None:
      self._pool.shutdown(wait=False)
      self._pool = None


def padded_record_batches(reader, decode_batch, num_examples: int,
                          batch_size: int, num_devices: int = 1):
  """Fixed-shape eval batches over the first ``num_examples`` records.

  Yields ``(batch, mask)`` as numpy arrays: the last batch repeats its final
  record to fill the shape, marks the copies ``_padding`` and masks them out
  (0), so every batch has one shape and one compiled eval step serves all.
  """
  batch_size = math.ceil(batch_size / num_devices) * num_devices
  num_examples = min(num_examples, len(reader))
  for start in range(0, num_examples, batch_size):
    stop = min(start + batch_size, num_examples)
    indices = list(range(start, stop))
    indices += [stop - 1] * (batch_size - len(indices))
    if hasattr(reader, 'read_columns'):
      yield decode_batch(reader.read_columns(indices), None), _mask(
        batch_size, stop - start)
      continue
    records = reader.read(indices)
    for row, record in enumerate(records):
      # Filler rows: masked out, and left out where a batch is assembled
      # from its records (ogbg's graph packing).
      record['_index'], record['_padding'] = indices[row], row >= stop - start
    yield decode_batch(records, None), _mask(batch_size, stop - start)


def _mask(size: int, valid: int) -> np.ndarray:
  mask = np.zeros(size, np.float32)
  mask[:valid] = 1.0
  return mask


def _decoder(workload):
  """The workload's ``decode_batch`` if it has one, else its dataset's."""
  return getattr(workload, 'decode_batch', None) or (
    workload.dataset_builder.decode_batch)


def _reader(workload, split: str, data_dir):
  """The stored split an input queue of ``split`` reads (cached)."""
  data_dir = dirs.resolve_data_dir(data_dir)
  dataset = workload.dataset_builder
  split = dataset.queue_splits.get(split, split)
  key = (split, str(data_dir))
  cache = workload.__dict__.setdefault('_record_readers', {})
  if key not in cache:
    cache[key] = dataset.open_split(data_dir, split, workload.name)
  return cache[key]


def input_queue(workload, data_rng, split: str, data_dir,
                global_batch_size: int, start_position: int = 0):
  """``_build_input_queue`` over prepared records (ArrayWorkload calls it
  when its ``dataset_builder`` reads by index)."""
  reader = _reader(workload, split, data_dir)
  decode_batch = _decoder(workload)

  def decode(records, rng):
    return decode_batch(records, split, rng if split == 'train' else None)

  return RecordBatches(reader, decode, global_batch_size,
                       base_workload.seed_from_key(data_rng), start_position,
                       getattr(workload, 'decode_workers', _DEFAULT_WORKERS))


def evaluate(workload, split: str, num_examples: int, params, model_state,
             data_dir) -> dict:
  """``_eval_model_on_split`` over prepared records: padded batches, the
  workload's one jitted eval step, its ``eval_averages``."""
  import jax
  import jax.numpy as jnp

  reader = _reader(workload, split, data_dir)
  decode_batch = _decoder(workload)
  num_examples = min(num_examples, len(reader))
  totals = None
  for batch, mask in padded_record_batches(
      reader, lambda records, _: decode_batch(records, split, None),
      num_examples, workload.eval_batch_size, len(jax.devices())):
    batch, mask = jax_sharding_utils.shard_along_batch_dim((batch, mask))
    sums = workload._eval_step(params, model_state, batch, mask)  # noqa: SLF001
    totals = sums if totals is None else jax.tree.map(jnp.add, totals, sums)
  return workload.eval_averages(jax.device_get(totals), num_examples)


def stored_split(workload, split: str, data_dir) -> dict:
  """``split_arrays`` for prepared records: the split in the model side's
  in-memory stored form (the dataset's ``stored_arrays``), for workloads
  whose own evaluation reads whole splits. eval_train is the first
  ``num_eval_train_examples`` training examples, never the whole split.
  Cached per workload instance.

  Raises:
    WorkloadError: the dataset has no in-memory stored form.
  """
  from algoperf.errors import WorkloadError

  dataset = workload.dataset_builder
  if not hasattr(dataset, 'stored_arrays'):
    raise WorkloadError(
      f'{workload.name} asked for the whole {split!r} split in memory '
      f'(split_arrays), but {dataset.name} is read by index from prepared '
      'records and has no in-memory form; read batches through '
      '_build_input_queue / algoperf.data.streaming instead.')
  key = (split, str(dirs.resolve_data_dir(data_dir)))
  cache = workload.__dict__.setdefault('_stored_splits', {})
  if key not in cache:
    reader = _reader(workload, split, data_dir)
    count = len(reader)
    if split == 'eval_train':
      count = min(count, workload.num_eval_train_examples)
    records = []
    for start in range(0, count, 4096):
      records += reader.read(range(start, min(start + 4096, count)))
    arrays = dataset.stored_arrays(records, split)
    for array in arrays.values():
      array.setflags(write=False)
    cache[key] = arrays
  return cache[key]


def train_data(workload, data_dir) -> 'RecordTrainData':
  decode_batch = _decoder(workload)
  return RecordTrainData(_reader(workload, 'train', data_dir),
                         lambda records: decode_batch(records, 'train', None))


class RecordTrainData:
  """``TrainData`` over records: examples by index, decoded without
  augmentation (docs/design.md §3's extension for data selection)."""

  def __init__(self, reader, decode):
    self._reader = reader
    self._decode = decode
    self.num_examples = len(reader)

  def __len__(self):
    return self.num_examples

  def get_batch(self, indices):
    indices = np.asarray(indices)
    read = getattr(self._reader, 'read_columns', self._reader.read)
    batch = self._decode(read(indices))
    return jax_sharding_utils.shard_along_batch_dim(batch)
