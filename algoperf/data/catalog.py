"""Prepare the datasets behind workloads, with progress and sizes."""

import pathlib
import time

from algoperf import console
from algoperf.data import dirs
from algoperf.data import prepared


def _size_bytes(path: pathlib.Path) -> int:
  return sum(p.stat().st_size for p in path.rglob('*') if p.is_file())


def prepare_workloads(names, data_dir=None) -> list[dict]:
  """Prepares each distinct dataset used by ``names``; prints a summary."""
  from rich.table import Table

  from algoperf import registry

  data_dir = dirs.resolve_data_dir(data_dir)
  builders = {}
  for name in names:
    builder_cls = registry.get_workload_class(name).dataset_builder
    builders.setdefault(builder_cls, []).append(name)
  out = console.console()
  rows = []
  for builder_cls, users in builders.items():
    start = time.perf_counter()
    was_prepared = prepared.is_prepared(builder_cls, data_dir)
    with out.status(f'Preparing {builder_cls.name} for {", ".join(users)}'):
      builder = prepared.prepare(builder_cls, data_dir)
    splits = {k: v.num_examples for k, v in builder.info.splits.items()}
    rows.append({
      'dataset': builder_cls.name,
      'workloads': ', '.join(users),
      'splits': ', '.join(f'{k} {v}' for k, v in splits.items()),
      'size MB': f'{_size_bytes(pathlib.Path(builder.data_dir)) / 1e6:.1f}',
      'status': 'already prepared' if was_prepared else 'prepared',
      'seconds': f'{time.perf_counter() - start:.1f}',
    })
  table = Table(title=f'Prepared data in {data_dir}')
  for column in rows[0]:
    table.add_column(column)
  for row in rows:
    table.add_row(*row.values())
  out.print(table)
  return rows
