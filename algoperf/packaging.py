"""Bundle an experiment's results for hand-in, and verify such a bundle.

A package is a ``.tar.gz`` holding::

  MANIFEST.sha256        "<sha256>  <path>" per file (sha256sum format)
  package_info.json      when, from where, which experiments/submissions
  logs/<experiment>/study_<k>/<workload>_jax/trial_<i>/...   every log file
  submission/<name>/...  the source of each submission the logs name

``verify`` refuses a package whose files differ from the manifest (changed,
added, removed), that holds anything but plain files and directories, or
whose paths leave the package. The checksums show the files were not
changed after packaging; they are not a signature (whoever rewrites the
manifest too is not detected).

Standard library only: ``algoperf score`` uses this and never imports JAX.
"""

import contextlib
import datetime
import hashlib
import io
import json
import os
import pathlib
import tarfile
import tempfile
import zlib

from algoperf import fs
from algoperf.errors import AlgoperfError
from algoperf.records import HARNESS_DIR

MANIFEST = 'MANIFEST.sha256'
INFO = 'package_info.json'
LOGS = 'logs'
SUBMISSION = 'submission'
_SKIP_DIRS = ('__pycache__', '.git', '.ipynb_checkpoints')
_SKIP_SUFFIXES = ('.pyc', '.pyo')


class PackageError(AlgoperfError):
  """A package is malformed or its files do not match its manifest."""


def _sha256(data: bytes) -> str:
  return hashlib.sha256(data).hexdigest()


def _files_under(root: pathlib.Path):
  for dirpath, dirnames, filenames in os.walk(root):
    dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
    for name in sorted(filenames):
      path = pathlib.Path(dirpath) / name
      if not name.endswith(_SKIP_SUFFIXES) and not name.startswith('.') and (
          not _machinery(path)):
        yield path


def _machinery(path: pathlib.Path) -> bool:
  """The lock and the supervisor's scratch: no part of the results."""
  parts = path.parts
  if HARNESS_DIR not in parts:
    return False
  inside = parts[parts.index(HARNESS_DIR) + 1:]
  return inside[0] in ('lock', 'lock.owner.json', 'trials')


def _experiments(experiment_dir: pathlib.Path) -> dict:
  """{experiment name: its directory}; accepts one experiment or a root."""
  if any(experiment_dir.glob('study_*')):
    return {experiment_dir.name: experiment_dir}
  found = {p.name: p for p in sorted(experiment_dir.iterdir())
           if p.is_dir() and any(p.glob('study_*'))}
  if not found:
    raise PackageError(
      f'{experiment_dir}: no study_<k> directories found; pass the '
      '--experiment-dir of `algoperf run` or one experiment inside it.')
  return found


def _submission_dirs(experiments: dict) -> list:
  """Directories of the submissions named by flags_<n>.json files."""
  dirs = []
  for directory in experiments.values():
    for flags in sorted(directory.glob('study_*/*/trial_*/flags_*.json')):
      path = json.loads(flags.read_text()).get('submission_path')
      if not path:
        continue
      path = pathlib.Path(path)
      path = path.parent if path.suffix == '.py' else path
      if not path.is_dir():
        raise PackageError(
          f'{flags} names submission {path}, which does not exist here; '
          'pass --submission DIR with the source that produced the logs.')
      if path not in dirs:
        dirs.append(path)
  return dirs


def create_package(experiment_dir, output, submission_dirs=None) -> dict:
  """Writes the package ``output``; returns its package_info."""
  experiment_dir = pathlib.Path(experiment_dir).resolve()
  if not experiment_dir.is_dir():
    raise PackageError(f'{experiment_dir}: no such experiment directory.')
  experiments = _experiments(experiment_dir)
  sources = ([pathlib.Path(d).resolve() for d in submission_dirs]
             if submission_dirs else _submission_dirs(experiments))
  members = {}  # Path inside the package -> file on disk.
  for name, directory in experiments.items():
    for path in _files_under(directory):
      members[f'{LOGS}/{name}/{path.relative_to(directory).as_posix()}'] = path
  names = {}
  for source in sources:
    label = source.name if source.name not in names.values() else (
      f'{source.name}_{len(names)}')
    names[str(source)] = label
    for path in _files_under(source):
      members[f'{SUBMISSION}/{label}/{path.relative_to(source).as_posix()}'] = (
        path)
  info = {
    'created': datetime.datetime.now(datetime.UTC).isoformat(),
    'experiment_dir': str(experiment_dir),
    'experiments': sorted(experiments),
    'submissions': names,
    'num_files': len(members),
  }
  contents = {arcname: path.read_bytes() for arcname, path in members.items()}
  contents[INFO] = json.dumps(info, indent=2, sort_keys=True).encode()
  manifest = ''.join(f'{_sha256(data)}  {arcname}\n'
                     for arcname, data in sorted(contents.items()))
  _write_tar(pathlib.Path(output), {MANIFEST: manifest.encode(), **contents})
  return info


def _write_tar(output: pathlib.Path, contents: dict) -> None:
  output.parent.mkdir(parents=True, exist_ok=True)
  fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=f'.{output.name}.')
  os.fchmod(fd, fs.file_mode())  # mkstemp's 0600 ignores the umask.
  os.close(fd)
  try:
    with tarfile.open(tmp, 'w:gz') as tar:
      for arcname, data in contents.items():
        entry = tarfile.TarInfo(arcname)
        entry.size, entry.mode = len(data), 0o644
        tar.addfile(entry, io.BytesIO(data))
    os.replace(tmp, output)
  except BaseException:
    if os.path.exists(tmp):
      os.unlink(tmp)
    raise


def _parse_manifest(package, text: str) -> dict:
  expected = {}
  for number, line in enumerate(text.splitlines(), 1):
    digest, sep, name = line.partition('  ')
    if not sep or len(digest) != 64:
      raise PackageError(f'{package}: {MANIFEST} line {number} is not '
                         '"<sha256>  <path>".')
    expected[name] = digest
  return expected


# Limits checked from each member's header, before its data is read: a
# package is refused as soon as it would exceed one of them.
MAX_MANIFEST_BYTES = 16 << 20
MAX_MEMBER_BYTES = 1 << 30
MAX_TOTAL_BYTES = 4 << 30
MAX_MEMBERS = 200_000
_CHUNK = 1 << 20


def _refuse(package, detail: str) -> PackageError:
  return PackageError(f'{package}: {detail}; the package is refused (make a '
                      'fresh one with `algoperf package`).')


def member_name(entry) -> str:
  """The entry's path as the manifest lists it: ``./logs/x`` (what ``tar
  -C DIR .`` writes when a package is re-packed) and ``logs//x`` are
  ``logs/x``. Absolute paths and ``..`` are left for ``_check_entry``."""
  name = entry.name
  if name.startswith('/'):
    return name
  return '/'.join(part for part in name.split('/') if part not in ('', '.'))


def _check_entry(package, entry, expected: dict, seen: set, total: int):
  name = member_name(entry)
  if not entry.isfile() or name.startswith('/') or '..' in (
      pathlib.PurePosixPath(name).parts):
    raise PackageError(f'{package}: unsafe entry {entry.name!r} (links, '
                       'devices and paths leaving the package are '
                       'refused).')
  if name not in expected or name in seen:
    raise _refuse(package, 'checksum verification failed (not in the '
                  f'manifest: {name}; or listed twice)')
  if entry.size > MAX_MEMBER_BYTES or total + entry.size > MAX_TOTAL_BYTES:
    raise _refuse(package, f'{name!r} declares {entry.size} bytes, over the '
                  f'limits of {MAX_MEMBER_BYTES} per file and '
                  f'{MAX_TOTAL_BYTES} in all')
  if len(seen) >= MAX_MEMBERS:
    raise _refuse(package, f'more than {MAX_MEMBERS} files')


def _stream_member(tar, entry, sink) -> str:
  """Copies ``entry``'s data to ``sink`` (or nowhere); its sha256."""
  digest = hashlib.sha256()
  source = tar.extractfile(entry)
  for chunk in iter(lambda: source.read(_CHUNK), b''):
    digest.update(chunk)
    if sink is not None:
      sink.write(chunk)
  return digest.hexdigest()


def verify_into(package, target_dir=None) -> list[str]:
  """Streams ``package``, checking it against its manifest as it goes.

  The manifest must come first; every later member must be listed in it,
  within the size limits (checked from its header, before its data is
  read) and match its checksum. With ``target_dir``, members are written
  there (log files of scoring). Returns the member names.

  Raises:
    PackageError: unreadable, unsafe, over a limit, or any file changed,
      missing or not in the manifest.
  """
  seen, total, changed = set(), 0, []
  try:
    with tarfile.open(package, 'r|gz') as tar:
      first = _first_file(tar)
      if first is None or member_name(first) != MANIFEST:
        raise _manifest_not_first(package, first)
      if first.size > MAX_MANIFEST_BYTES:
        raise _refuse(package, f'{MANIFEST} is {first.size} bytes')
      expected = _parse_manifest(
        package, tar.extractfile(first).read().decode('utf-8', 'replace'))
      while (entry := tar.next()) is not None:
        if entry.isdir():
          continue
        _check_entry(package, entry, expected, seen, total)
        name = member_name(entry)
        seen.add(name)
        total += entry.size
        sink_path = (pathlib.Path(target_dir, name)
                     if target_dir is not None else None)
        if sink_path is None:
          digest = _stream_member(tar, entry, None)
        else:
          sink_path.parent.mkdir(parents=True, exist_ok=True)
          with open(sink_path, 'wb') as sink:
            digest = _stream_member(tar, entry, sink)
        if digest != expected[name]:
          changed.append(name)
  except (tarfile.TarError, EOFError, zlib.error) as e:
    raise PackageError(f'{package}: not a readable .tar.gz package '
                       f'({e}).') from e
  except OSError as e:
    if isinstance(e, PackageError):
      raise
    raise PackageError(f'{package}: not a readable .tar.gz package '
                       f'({e}).') from e
  missing = sorted(set(expected) - seen)
  if changed or missing:
    details = '; '.join(f'{label}: {", ".join(names[:5])}'
                        + (f' (+{len(names) - 5} more)' if len(names) > 5
                           else '')
                        for label, names in (('changed', sorted(changed)),
                                             ('missing', missing))
                        if names)
    raise PackageError(f'{package}: checksum verification failed ({details})'
                       '. The package was modified after `algoperf package`;'
                       ' it is refused.')
  return sorted(seen)


def _first_file(tar):
  """The first entry that is not a directory (``tar -C DIR .`` starts
  with ``./``); None for an empty archive."""
  entry = tar.next()
  while entry is not None and entry.isdir():
    entry = tar.next()
  return entry


def _manifest_not_first(package, first) -> PackageError:
  if first is None:
    return PackageError(f'{package}: no {MANIFEST}: the archive holds no '
                        'files; not made by `algoperf package`.')
  return PackageError(
    f'{package}: no {MANIFEST} as its first file (found '
    f'{first.name!r} first). `algoperf package` writes it first so that '
    'every later file is checked as it streams; a package re-made by hand '
    f'must keep it first: tar -czf NEW.tar.gz -C DIR {MANIFEST} {INFO} '
    f'{LOGS} {SUBMISSION}.')


def read_verified(package) -> dict:
  """{path: bytes} of every file of ``package`` after ``verify_into``."""
  with tempfile.TemporaryDirectory(prefix='algoperf-package-') as tmp:
    names = verify_into(package, tmp)
    return {name: pathlib.Path(tmp, name).read_bytes() for name in names}


@contextlib.contextmanager
def scoring_root(path):
  """Yields a directory to score: ``path`` itself, or a verified package's
  logs extracted to a temporary directory."""
  path = pathlib.Path(path)
  if path.is_dir() or not path.exists():
    yield str(path)
    return
  with tempfile.TemporaryDirectory(prefix='algoperf-package-') as tmp:
    verify_into(path, tmp)
    yield os.path.join(tmp, LOGS)
