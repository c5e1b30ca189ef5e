"""Prepared TFDS datasets: build once into the data directory, load as arrays.

Builders write array_record files through TFDS, which prepares into an
``incomplete.*`` folder and renames it when done, so a crash never leaves a
dataset that looks complete. TensorFlow itself is not needed.
"""

import functools
import pathlib

import numpy as np
from absl import logging

from algoperf.data import manifest
from algoperf.errors import DataError


def make_builder(builder_cls, data_dir: pathlib.Path):
  return builder_cls(data_dir=str(data_dir), file_format='array_record')


def is_prepared(builder_cls, data_dir: pathlib.Path) -> bool:
  builder = make_builder(builder_cls, data_dir)
  return (pathlib.Path(builder.data_dir) / 'dataset_info.json').exists()


def prepare(builder_cls, data_dir: pathlib.Path, force: bool = False,
            name: str | None = None):
  """Downloads (from pinned packages) or generates, then writes the splits
  and their manifest. Returns the builder.

  A prepared dataset is verified against its manifest (every hash) and
  left as it is; one prepared before manifests existed is read in full
  (every record of every split) and then given one. ``force`` deletes the
  prepared copy first: the repair for a corrupted one.

  Raises:
    DataError: the prepared copy is corrupted (names ``--force``).
  """
  import shutil

  import tensorflow_datasets as tfds

  tfds.disable_progress_bar()  # The CLI shows its own status line.
  builder = make_builder(builder_cls, data_dir)
  directory = pathlib.Path(builder.data_dir)
  name = name or builder_cls.name
  if force and directory.exists():
    shutil.rmtree(directory)
    builder = make_builder(builder_cls, data_dir)
  if (directory / 'dataset_info.json').exists():
    if manifest.exists(directory):
      manifest.verify(directory, name, full=True)
      return builder
    _read_every_split(builder_cls, data_dir, name)
  else:
    builder.download_and_prepare()
  manifest.write(directory)
  return builder


def _read_every_split(builder_cls, data_dir, name: str) -> None:
  builder = make_builder(builder_cls, data_dir)
  for split in builder.info.splits:
    _read_split(builder_cls, str(data_dir), split, name)


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


def _read_split(builder_cls, data_dir: str, split: str, name: str):
  """Every record of ``split``; any failure to read them is a DataError."""
  builder = make_builder(builder_cls, pathlib.Path(data_dir))
  repair = f'`{prepare_command(name)} --force --data-dir {data_dir}`'
  try:
    source = builder.as_data_source(split=split)
    records = source.__getitems__(range(len(source)))
    expected = builder.info.splits[split].num_examples
  except Exception as e:  # noqa: BLE001 -- riegeli, protobuf, OS errors.
    raise DataError(
      f'{builder.data_dir}: split {split!r} cannot be read ({type(e).__name__}'
      f': {str(e)[:200]}). The prepared copy is corrupted; repair it with '
      f'{repair}.') from None
  if len(records) != expected:
    raise DataError(
      f'{builder.data_dir}: split {split!r} has {len(records)} records, '
      f'dataset_info.json says {expected}. The prepared copy is partial; '
      f'repair it with {repair}.'
    )
  return records


@functools.lru_cache(maxsize=64)
def _load_split_cached(builder_cls, data_dir: str, split: str, name: str):
  directory = pathlib.Path(make_builder(builder_cls,
                                        pathlib.Path(data_dir)).data_dir)
  if manifest.exists(directory):
    manifest.verify(directory, name, full=False)
  else:
    logging.warning(
      '%s has no manifest (prepared by an earlier version); run `%s '
      '--data-dir %s` once to check it and write one.', directory,
      prepare_command(name), data_dir)
  records = _read_split(builder_cls, data_dir, split, name)
  try:
    arrays = {k: np.stack([r[k] for r in records]) for k in records[0]}
  except (ValueError, KeyError, IndexError) as e:
    raise DataError(
      f'{directory}: split {split!r} holds inconsistent records ({e}); '
      f'repair it with `{prepare_command(name)} --force --data-dir '
      f'{data_dir}`.') from None
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
  try:
    prepared = is_prepared(builder_cls, data_dir)
  except Exception as e:  # noqa: BLE001 -- a corrupted dataset_info.json.
    raise DataError(
      f'{data_dir}: the prepared {builder_cls.name!r} cannot be opened '
      f'({type(e).__name__}: {str(e)[:200]}); repair it with '
      f'`{prepare_command(workload_name)} --force --data-dir {data_dir}`.'
    ) from None
  if not prepared:
    raise DataError(
      f'No prepared data for {workload_name!r} in {data_dir} '
      f'(dataset {builder_cls.name!r}). Prepare it with '
      f'`{prepare_command(workload_name)} --data-dir {data_dir}`.'
    )
  return _load_split_cached(builder_cls, str(data_dir), split, workload_name)
