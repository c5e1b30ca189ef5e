"""Where prepared data lives."""

import os
import pathlib

DATA_DIR_ENV = 'ALGOPERF_DATA_DIR'


def default_data_dir() -> pathlib.Path:
  """``$ALGOPERF_DATA_DIR``, else ``$XDG_CACHE_HOME/algoperf/data``."""
  if os.environ.get(DATA_DIR_ENV):
    return pathlib.Path(os.environ[DATA_DIR_ENV]).expanduser()
  cache = os.environ.get('XDG_CACHE_HOME') or os.path.expanduser('~/.cache')
  return pathlib.Path(cache) / 'algoperf' / 'data'


def resolve_data_dir(data_dir: str | os.PathLike | None) -> pathlib.Path:
  return pathlib.Path(data_dir).expanduser() if data_dir else default_data_dir()
