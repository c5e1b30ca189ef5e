"""Prepare the datasets behind workloads, with progress and sizes."""

import pathlib
import time

from algoperf import console
from algoperf.data import dirs
from algoperf.data import manifest
from algoperf.data import prepared


def _size_bytes(path: pathlib.Path) -> int:
  return sum(p.stat().st_size for p in path.rglob('*') if p.is_file())


def _datasets(names) -> dict:
  """{builder class: the workload names that use it}."""
  from algoperf import registry

  builders = {}
  for name in names:
    builder_cls = registry.get_workload_class(name).dataset_builder
    if builder_cls is not None:
      builders.setdefault(builder_cls, []).append(name)
  return builders


def verify_workloads(names, data_dir=None) -> list[dict]:
  """Checks every file of each dataset against its manifest (sha256).

  Raises:
    DataError: one dataset or more is missing, corrupted or has no manifest.
  """
  from algoperf.errors import DataError

  data_dir = dirs.resolve_data_dir(data_dir)
  rows, bad = [], []
  for builder_cls, users in _datasets(names).items():
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


def _print(rows, title) -> None:
  from rich.table import Table

  table = Table(title=title)
  for column in rows[0]:
    table.add_column(column)
  for row in rows:
    table.add_row(*row.values())
  console.console().print(table)


def prepare_workloads(names, data_dir=None, force: bool = False) -> list[dict]:
  """Prepares each distinct dataset used by ``names``; prints a summary.

  ``force``: delete each prepared copy first (repairs a corrupted one).
  """
  from rich.table import Table

  from algoperf import fs
  from algoperf import registry

  data_dir = fs.check_writable_dir(dirs.resolve_data_dir(data_dir),
                                   '--data-dir')
  builders = {}
  for name in names:
    builder_cls = registry.get_workload_class(name).dataset_builder
    builders.setdefault(builder_cls, []).append(name)
  out = console.console()
  rows = []
  for builder_cls, users in builders.items():
    start = time.perf_counter()
    was_prepared = not force and prepared.is_prepared(builder_cls, data_dir)
    with out.status(f'Preparing {builder_cls.name} for {", ".join(users)}'):
      builder = prepared.prepare(builder_cls, data_dir, force, users[0])
    splits = {k: v.num_examples for k, v in builder.info.splits.items()}
    rows.append({
      'dataset': builder_cls.name,
      'workloads': ', '.join(users),
      'splits': ', '.join(f'{k} {v}' for k, v in splits.items()),
      'size MB': f'{_size_bytes(pathlib.Path(builder.data_dir)) / 1e6:.1f}',
      'status': ('already prepared (verified)' if was_prepared
                 else 'prepared'),
      'seconds': f'{time.perf_counter() - start:.1f}',
    })
  table = Table(title=f'Prepared data in {data_dir}')
  for column in rows[0]:
    table.add_column(column)
  for row in rows:
    table.add_row(*row.values())
  out.print(table)
  return rows
