"""A prepared dataset's manifest: every file's size and sha256.

Written by ``algoperf data prepare`` next to ``dataset_info.json``
(``algoperf_manifest.json``). Loading a split compares sizes (a ``stat``
per file); ``algoperf data verify`` and ``prepare`` compare hashes too. A
mismatch is a DataError naming ``algoperf data prepare NAME --force``,
which deletes the copy and prepares it again.
"""

import json
import os
import pathlib

from algoperf.data import packages
from algoperf.errors import DataError

FILE = 'algoperf_manifest.json'


def exists(directory: pathlib.Path) -> bool:
  return (pathlib.Path(directory) / FILE).is_file()


def _files(directory: pathlib.Path) -> list[pathlib.Path]:
  return sorted(p for p in directory.iterdir()
                if p.is_file() and p.name != FILE
                and not p.name.startswith('.'))


def write(directory: pathlib.Path) -> dict:
  """Records every file of ``directory``; returns the manifest."""
  from algoperf import records

  directory = pathlib.Path(directory)
  files = {p.name: {'size': p.stat().st_size, 'sha256': packages.sha256_of(p)}
           for p in _files(directory)}
  records.write_json(directory / FILE, {'files': files})
  return files


def problems(directory: pathlib.Path, full: bool) -> list[str]:
  """What differs from the manifest (sizes; hashes too when ``full``)."""
  directory = pathlib.Path(directory)
  try:
    files = json.loads((directory / FILE).read_text())['files']
    expected = {name: (int(f['size']), str(f['sha256']))
                for name, f in files.items()}
  except (OSError, ValueError, KeyError, TypeError, AttributeError):
    return [f'{directory / FILE} is unreadable']
  found = []
  for name, (size, sha256) in sorted(expected.items()):
    path = directory / name
    try:
      actual = path.stat().st_size
    except OSError:
      found.append(f'{name} is missing')
      continue
    if actual != size:
      found.append(f'{name} has {actual} bytes, the manifest says {size}')
    elif full and packages.sha256_of(path) != sha256:
      found.append(f'{name} differs from its recorded sha256')
  extra = sorted(p.name for p in _files(directory)) if full else []
  found += [f'{name} is not in the manifest' for name in extra
            if name not in expected]
  return found


def verify(directory: pathlib.Path, name: str, full: bool) -> None:
  """Raises DataError naming the repair when ``directory`` differs."""
  found = problems(directory, full)
  if found:
    data_dir = pathlib.Path(directory).parents[1]
    raise DataError(
      f'{directory}: the prepared data is corrupted ({"; ".join(found[:3])}'
      f'{"; ..." if len(found) > 3 else ""}). Repair it with `algoperf data '
      f'prepare {name} --force --data-dir {data_dir}`.')


def size_of(directory: pathlib.Path) -> int:
  return sum(os.path.getsize(p) for p in _files(pathlib.Path(directory)))
