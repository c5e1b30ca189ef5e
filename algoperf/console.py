"""One rich Console for tables: wide enough when output is not a terminal."""

import functools


@functools.cache
def console():
  from rich.console import Console

  detected = Console()
  if detected.is_terminal:
    return detected
  # Piped or captured output: don't wrap tables at rich's 80-column default.
  return Console(width=200)
