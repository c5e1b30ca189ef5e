"""Prepare the datasets behind workloads, with progress and sizes."""

import pathlib
import time

from algoperf import console
from algoperf.data import dirs
from algoperf.data import manifest
from algoperf.data import prepared


def _size_bytes(path: pathlib.Path) -> int:
  return sum(p.stat().st_size for p in path.rglob('*') if p.is_file())


def _builder(name):
  """A TFDS builder class (CPU suite), a ``raw.RawDataset`` (AlgoPerf
  suite, found without importing the workload) or None."""
  from algoperf import registry
  from algoperf.data import raw

  return raw.dataset_for(name) or (
    registry.get_workload_class(name).dataset_builder)


def _datasets(names) -> dict:
  """{builder class: the workload names that use it}."""
  builders = {}
  for name in names:
    builder_cls = _builder(name)
    if builder_cls is not None:
      builders.setdefault(builder_cls, []).append(name)
  return builders


def verify_workloads(names, data_dir=None) -> list[dict]:
  """Checks every file of each dataset against its manifest (sha256).

  Raises:
    DataError: one dataset or more is missing, corrupted or has no manifest.
  """
  from algoperf.data import raw
  from algoperf.errors import DataError

  data_dir = dirs.resolve_data_dir(data_dir)
  rows, bad = [], []
  for builder_cls, users in _datasets(names).items():
    if isinstance(builder_cls, raw.RawDataset):
      try:
        builder_cls.verify(data_dir, users[0], full=True)
        found = []
      except DataError as e:
        found = [str(e)]
      rows.append({'dataset': builder_cls.name, 'workloads': ', '.join(users),
                   'status': 'ok' if not found else found[0]})
      bad += found
      continue
    directory = pathlib.Path(prepared.make_builder(builder_cls,
                                                   data_dir).data_dir)
    if not (directory / 'dataset_info.json').exists():
      found = ['not prepared']
    elif not manifest.exists(directory):
      found = ['no manifest (prepared by an earlier version)']
    else:
      found = manifest.problems(directory, full=True)
    rows.append({'dataset': builder_cls.name, 'workloads': ', '.join(users),
                 'status': 'ok' if not found else '; '.join(found)})
    if found:
      bad.append(f'{builder_cls.name} ({"; ".join(found[:2])}): run '
                 f'`{prepared.prepare_command(users[0])} --force --data-dir '
                 f'{data_dir}`')
  _print(rows, f'Verified data in {data_dir}')
  if bad:
    raise DataError('corrupted or missing prepared data: ' + ' | '.join(bad))
  return rows


# Column -> priority (0 stays; larger numbers leave narrow terminals first).
_PRIORITY = {'dataset': 0, 'status': 0, 'workloads': 1, 'size MB': 2,
             'splits': 3, 'seconds': 3}


def table(rows, title):
  """A FittedTable of dataset rows (``verify`` and ``prepare``)."""
  from algoperf import tables

  columns = [tables.Column(name, priority=_PRIORITY.get(name, 3),
                           wrap=name in ('status', 'workloads'),
                           min_width=16,
                           justify='right' if name in ('size MB', 'seconds')
                           else 'left')
             for name in rows[0]]
  return tables.FittedTable(columns, [list(row.values()) for row in rows],
                            title=title)


def _print(rows, title) -> None:
  console.console().print(table(rows, title))


def prepare_workloads(names, data_dir=None, force: bool = False,
                      source=None) -> list[dict]:
  """Prepares each distinct dataset used by ``names``; prints a summary.

  ``force``: delete each prepared copy first (repairs a corrupted one).
  ``source``: the raw files of an AlgoPerf-suite dataset (one dataset).
  """
  from algoperf import fs
  from algoperf import progress
  from algoperf.data import raw
  from algoperf.errors import UsageError

  data_dir = fs.check_writable_dir(dirs.resolve_data_dir(data_dir),
                                   '--data-dir')
  builders = {}
  for name in names:
    builders.setdefault(_builder(name), []).append(name)
  builders.pop(None, None)
  raw_ones = [b.name for b in builders if isinstance(b, raw.RawDataset)]
  if source is not None and len(raw_ones) != 1:
    raise UsageError(
      '--source is the raw files of one AlgoPerf-suite dataset; name one '
      f'workload of one family (named datasets: {", ".join(raw_ones) or "none"}'
      ').')
  out = console.console()
  rows = []
  # Progress on stderr (a live line, or a line per dataset in a log).
  with progress.Task('data prepare', total=len(builders),
                     unit='datasets') as shown:
    for done, (builder_cls, users) in enumerate(builders.items()):
      shown.phase(f'preparing {builder_cls.name}', completed=done,
                  detail=f'for {", ".join(users)}')
      if isinstance(builder_cls, raw.RawDataset):
        def report(text, name=builder_cls.name, done=done):
          shown.phase(f'preparing {name}', completed=done, detail=text)

        row = builder_cls.prepare(source, data_dir, force, users[0],
                                  report=report)
        rows.append({'dataset': row['dataset'], 'workloads': ', '.join(users),
                     **{k: v for k, v in row.items() if k != 'dataset'}})
      else:
        rows.append(_prepare_one(builder_cls, users, data_dir, force))
    shown.update(len(builders))
  out.print(table(rows, f'Prepared data in {data_dir}'))
  return rows


def _prepare_one(builder_cls, users, data_dir, force: bool) -> dict:
  start = time.perf_counter()
  was_prepared = not force and prepared.is_prepared(builder_cls, data_dir)
  builder = prepared.prepare(builder_cls, data_dir, force, users[0])
  splits = {k: v.num_examples for k, v in builder.info.splits.items()}
  return {
    'dataset': builder_cls.name,
    'workloads': ', '.join(users),
    'splits': ', '.join(f'{k} {v}' for k, v in splits.items()),
    'size MB': f'{_size_bytes(pathlib.Path(builder.data_dir)) / 1e6:.1f}',
    'status': ('already prepared (verified)' if was_prepared
               else 'prepared'),
    'seconds': f'{time.perf_counter() - start:.1f}',
  }
