"""One rich Console for tables: wide enough when output is not a terminal."""

import functools
import os


@functools.cache
def console():
  from rich.console import Console

  detected = Console()
  if detected.is_terminal or os.environ.get('COLUMNS', '').isdigit():
    return detected  # rich reads COLUMNS: a width asked for is kept.
  # Piped or captured output: don't wrap tables at rich's 80-column default.
  return Console(width=200)
