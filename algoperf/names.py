"""Names that become directories: checked before anything is written."""

import re

from algoperf.errors import UsageError

_NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$')


def check_name(value: str, flag: str = '--name') -> str:
  """``value`` if it names one directory level; else a UsageError.

  No separators, no ``..``, not empty, not hidden, at most 128 characters
  of letters, digits, ``.``, ``_`` and ``-``: a name can never point
  outside the directory it is joined to.
  """
  if not isinstance(value, str) or not _NAME.match(value) or '..' in value:
    raise UsageError(
      f'{flag} {value!r}: expected a plain name (letters, digits, ".", "_", '
      '"-"; starting with a letter or digit; no "/" or ".."; at most 128 '
      f'characters), e.g. {flag} my_study_1.')
  return value
