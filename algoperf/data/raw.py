"""Datasets prepared from the user's own copy of AlgoPerf's raw files.

The AlgoPerf suite's data cannot be fetched by the harness (licences,
terabytes), so ``algoperf data prepare NAME --source DIR`` reads the files
AlgoPerf's data instructions (its ``datasets/dataset_setup.py``) leave in
DIR and writes one array_record file per split (``recordio``: one example
per record, read back by index) into
``<data_dir>/algoperf/<dataset>/<version>/`` with ``dataset_info.json``
(features, split sizes) and the manifest every prepared dataset has (each
file's size and sha256).

Each family's ``workloads/<family>/dataset.py`` subclasses ``RawDataset``:
it names the raw files it needs per split (a missing one is one line naming
the file and where AlgoPerf's instructions put it), estimates the disk it
will take (checked against the free space before anything is written) and
turns raw files into stored examples. Preparation writes into an
``incomplete.*`` folder renamed when complete, so an interrupted one never
looks prepared.
"""

import dataclasses
import importlib
import json
import os
import pathlib
import shutil
import sys
import time

from algoperf.data import manifest
from algoperf.data import recordio
from algoperf.errors import DataError

INFO = 'dataset_info.json'
ROOT = 'algoperf'  # <data_dir>/algoperf/<dataset>/<version>/
# Free space kept beyond the estimate (filesystems fill badly).
_HEADROOM = 1.05


def prepare_command(name: str, source: str = 'DIR') -> str:
  return f'algoperf data prepare {name} --source {source}'


class Block(dict):
  """Many examples at once (``{feature: array [n, ...]}``), which a
  columnar dataset's ``examples`` may yield instead of single ones."""


@dataclasses.dataclass(frozen=True)
class Plan:
  """What one preparation will read, and about how much it will write."""

  files: dict  # split -> list of raw paths (or other per-split inputs).
  estimate_bytes: int
  notes: tuple = ()  # Lines shown before writing (e.g. a trained tokenizer).


class RawDataset:
  """One AlgoPerf dataset, prepared from raw files into records."""

  # ArrayWorkload reads such a dataset by index (algoperf/data/streaming.py).
  reads_by_index = True

  name: str  # Folder under <data_dir>/algoperf/.
  version: str = '1.0.0'
  features: dict  # Feature name -> numpy dtype name, in record order.
  splits: tuple = ('train', 'validation', 'test')
  # What --source must hold, one paragraph (README and errors quote it).
  source_layout: str = ''
  # Fixed shapes per feature: stored as memory-mapped columns
  # (recordio.ColumnWriter) instead of one record per example.
  columns: dict | None = None
  # Input queue split -> the stored split it reads (the rest: itself).
  queue_splits = {'eval_train': 'train'}

  def split_features(self, split: str) -> dict:
    """The stored features of ``split`` (one set for most datasets)."""
    del split
    return self.features

  # --- What a family implements. ---
  def plan(self, source: pathlib.Path) -> Plan:
    """Finds the raw files; raises DataError naming a missing one."""
    raise NotImplementedError

  def examples(self, split: str, plan: Plan, source: pathlib.Path):
    """Yields the split's stored examples (``{feature: array}``)."""
    raise NotImplementedError

  def decode_batch(self, records: list, split: str, rng) -> dict:
    """Stored examples -> the batch ``model_fn`` receives: the function
    ``decode_batch`` of the module defining this dataset's class."""
    module = sys.modules[type(self).__module__]
    return module.decode_batch(records, split, rng)

  # A family whose model side reads whole eval splits in memory defines
  # ``stored_arrays(records, split) -> {key: array}`` (streaming.stored_split).

  def extra_files(self, plan: Plan, source: pathlib.Path) -> dict:
    """{file name: bytes} stored beside the records (e.g. a tokenizer)."""
    del plan, source
    return {}

  # --- Shared. ---
  def directory(self, data_dir) -> pathlib.Path:
    return pathlib.Path(data_dir) / ROOT / self.name / self.version

  def is_prepared(self, data_dir) -> bool:
    return (self.directory(data_dir) / INFO).is_file()

  def info(self, data_dir) -> dict:
    try:
      return json.loads((self.directory(data_dir) / INFO).read_text())
    except (OSError, ValueError) as e:
      raise DataError(f'{self.directory(data_dir) / INFO} is unreadable '
                      f'({e}).') from None

  def missing(self, path: pathlib.Path, what: str) -> DataError:
    """The error for a raw file that is not where AlgoPerf puts it."""
    return DataError(
      f'{path} is missing ({what}). `--source` must hold {self.source_layout}'
      ' Run AlgoPerf\'s datasets/dataset_setup.py for this dataset (or copy '
      'its output there), then prepare again.')

  def prepare(self, source, data_dir, force: bool = False,
              workload_name: str | None = None, report=None) -> dict:
    """Writes the prepared dataset; returns a summary row.

    ``report(text)`` receives progress lines (the disk estimate first).
    A prepared copy is verified (every hash) and kept unless ``force``.

    Raises:
      DataError: a raw file is missing or corrupt, the disk is too small,
        or the prepared copy is corrupted (names the repair).
    """
    report = report or (lambda text: None)
    name = workload_name or self.name
    data_dir = pathlib.Path(data_dir)
    directory = self.directory(data_dir)
    start = time.perf_counter()
    if self.is_prepared(data_dir) and not force:
      found = manifest.problems(directory, full=True)
      if found:
        raise DataError(
          f'{directory}: the prepared data is corrupted ({"; ".join(found[:3])}'
          f'). Repair it with `{prepare_command(name)} --force --data-dir '
          f'{data_dir}`.')
      return self._row(data_dir, 'already prepared (verified)', start)
    if source is None:
      raise DataError(
        f'{name} is prepared from your own copy of AlgoPerf\'s raw files: '
        f'pass `--source DIR`, DIR holding {self.source_layout}')
    source = pathlib.Path(source).expanduser()
    if not source.is_dir():
      raise DataError(f'--source {source} is not a directory; it must hold '
                      f'{self.source_layout}')
    plan = self.plan(source)
    free = shutil.disk_usage(_existing_parent(data_dir)).free
    report(f'{self.name}: about {plan.estimate_bytes / 1e9:.3g} GB to write '
           f'into {directory} ({free / 1e9:.3g} GB free)')
    for note in plan.notes:
      report(note)
    if plan.estimate_bytes * _HEADROOM > free:
      raise DataError(
        f'{self.name} needs about {plan.estimate_bytes / 1e9:.3g} GB in '
        f'{data_dir}, which has {free / 1e9:.3g} GB free. Free space or '
        'choose another --data-dir.')
    directory.parent.mkdir(parents=True, exist_ok=True)
    partial = directory.parent / f'incomplete.{directory.name}.{os.getpid()}'
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    try:
      counts = {}
      for split in self.splits:
        if self.columns:
          writer = recordio.ColumnWriter(partial, split, self.features,
                                         self.columns)
        else:
          writer = recordio.Writer(partial / f'{split}.array_record',
                                   self.split_features(split))
        try:
          for example in self.examples(split, plan, source):
            if isinstance(example, Block):
              writer.write_block(example)
            else:
              writer.write(example)
        finally:
          writer.close()
        counts[split] = writer.count
        report(f'{self.name}: {split} {writer.count} examples')
        if not writer.count:
          raise DataError(f'{self.name}: no {split} examples found under '
                          f'{source}; it must hold {self.source_layout}')
      for file_name, data in self.extra_files(plan, source).items():
        (partial / file_name).write_bytes(data)
      info = {'name': self.name, 'version': self.version,
              'features': {split: self.split_features(split)
                           for split in self.splits},
              'splits': counts,
              'source': str(source)}
      (partial / INFO).write_text(json.dumps(info, indent=2) + '\n')
      manifest.write(partial)
      if directory.exists():
        shutil.rmtree(directory)
      partial.rename(directory)
    except BaseException:
      shutil.rmtree(partial, ignore_errors=True)
      raise
    return self._row(data_dir, 'prepared', start)

  def _row(self, data_dir, status: str, start: float) -> dict:
    info = self.info(data_dir)
    return {
      'dataset': self.name,
      'splits': ', '.join(f'{k} {v}' for k, v in info['splits'].items()),
      'size MB': f'{manifest.size_of(self.directory(data_dir)) / 1e6:.1f}',
      'status': status,
      'seconds': f'{time.perf_counter() - start:.1f}',
    }

  def verify(self, data_dir, workload_name: str, full: bool) -> None:
    """Raises DataError naming the command when missing or corrupted."""
    directory = self.directory(data_dir)
    if not self.is_prepared(data_dir):
      raise DataError(
        f'No prepared data for {workload_name!r} in {data_dir} (dataset '
        f'{self.name!r}). Prepare it with `{prepare_command(workload_name)} '
        f'--data-dir {data_dir}`, DIR holding {self.source_layout}')
    found = manifest.problems(directory, full=full)
    if found:
      raise DataError(
        f'{directory}: the prepared data is corrupted ({"; ".join(found[:3])}'
        f'). Repair it with `{prepare_command(workload_name)} --force '
        f'--data-dir {data_dir}`.')

  def open_split(self, data_dir, split: str, workload_name: str):
    """The stored split's records (``recordio.Reader``), sizes checked."""
    self.verify(data_dir, workload_name, full=False)
    info = self.info(data_dir)
    expected = info['splits'][split]
    if self.columns:
      try:
        return recordio.ColumnReader(self.directory(data_dir), split,
                                     info['features'][split], self.columns,
                                     expected)
      except DataError as e:
        raise DataError(f'{e}. Repair it with `{prepare_command(workload_name)}'
                        ' --force`.') from None
    path = self.directory(data_dir) / f'{split}.array_record'
    reader = recordio.Reader(path, info['features'][split])
    if len(reader) != expected:
      raise DataError(
        f'{path} has {len(reader)} records, {INFO} says {expected}. Repair '
        f'it with `{prepare_command(workload_name)} --force`.')
    return reader

  def read_file(self, data_dir, file_name: str) -> bytes:
    return (self.directory(data_dir) / file_name).read_bytes()


def _existing_parent(path: pathlib.Path) -> pathlib.Path:
  while not path.exists():
    path = path.parent
  return path


def dataset_for(name: str) -> RawDataset | None:
  """The raw-prepared dataset behind workload ``name``, or None.

  Imports ``workloads.<family>.dataset`` only (no JAX, no model): the data
  commands and the pre-run check work before the model side is imported.
  """
  from algoperf import registry

  facts = registry.facts(name)
  if facts.suite != 'algoperf' or not facts.runnable:
    return None
  module = importlib.import_module(f'workloads.{facts.family}.dataset')
  return module.DATASET


def file_size(paths) -> int:
  return sum(pathlib.Path(p).stat().st_size for p in paths)


def load_sentencepiece(path, made_by: str):
  """The SentencePiece model at ``path``; ``made_by`` names what wrote it
  (for the error's fix). The WMT and LibriSpeech families use one each."""
  import sentencepiece

  path = pathlib.Path(path)
  try:
    return sentencepiece.SentencePieceProcessor(model_proto=path.read_bytes())
  except (OSError, RuntimeError) as e:
    raise DataError(f'{path} is not a SentencePiece model ({e}); restore '
                    f'the one {made_by}.') from None
