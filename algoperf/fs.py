"""File-system facts the harness checks before and while it writes.

Directories are probed by creating (and removing) a file, the only test
that is right for root, read-only mounts and full disks alike. OS errors
become one line naming the path and the fix.
"""

import errno
import os
import pathlib
import tempfile
import threading

from algoperf.errors import AlgoperfError
from algoperf.errors import InfrastructureError

_UMASK_LOCK = threading.Lock()


def umask() -> int:
  """The process umask (reading it means setting it; guarded)."""
  with _UMASK_LOCK:
    mask = os.umask(0o022)
    os.umask(mask)
  return mask


def file_mode() -> int:
  """What ``open(..., 'w')`` would give a new file: 0o666 less the umask."""
  return 0o666 & ~umask()


def check_writable_dir(path, flag: str) -> pathlib.Path:
  """``path`` (created if missing) can hold new files; else an error.

  Raises:
    AlgoperfError: ``path`` or a parent is a file.
    InfrastructureError: the directory cannot be written (read-only,
      permissions, disk full).
  """
  path = pathlib.Path(path).expanduser()
  existing = path
  while not existing.exists() and existing != existing.parent:
    if existing.is_symlink():  # A dangling link: not a usable directory.
      break
    existing = existing.parent
  if existing.exists() and not existing.is_dir():
    raise AlgoperfError(
      f'{flag} {path}: {existing} is a file, expected a directory; pass a '
      'directory path (it is created if missing).')
  try:
    path.mkdir(parents=True, exist_ok=True)
    fd, probe = tempfile.mkstemp(dir=path, prefix='.algoperf-probe-')
    os.close(fd)
    os.unlink(probe)
  except OSError as e:
    raise InfrastructureError(
      f'{flag} {path}: cannot write there ({os_error_text(e)}); pass a '
      'writable directory.') from None
  return path


def os_error_text(error: OSError) -> str:
  """A short reason: 'no space left on device', 'read-only file system'."""
  if error.errno is not None:
    return os.strerror(error.errno).lower()
  return str(error)


def is_no_space(error: BaseException) -> bool:
  """ENOSPC or EDQUOT anywhere in the exception's chain or message."""
  seen = set()
  while error is not None and id(error) not in seen:
    seen.add(id(error))
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC,
                                                      errno.EDQUOT):
      return True
    text = str(error).lower()
    if 'no space left' in text or 'disk quota exceeded' in text:
      return True
    error = error.__cause__ or error.__context__
  return False


def infrastructure_message(error: OSError, doing: str) -> str:
  """One line for an OSError met while ``doing`` something."""
  where = f' ({error.filename})' if getattr(error, 'filename', None) else ''
  if is_no_space(error):
    return (f'no space left on device while {doing}{where}; free space and '
            'rerun the same command: finished files are intact and the '
            'trial resumes from its last checkpoint.')
  return (f'{os_error_text(error)} while {doing}{where}; fix the '
          'directory (permissions, mount, disk) and rerun the same '
          'command.')
