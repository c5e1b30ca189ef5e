"""Paths inside a container, shown as the host paths mounted there.

`algoperf docker-command` tells the container its mounts in
``ALGOPERF_HOST_PATHS`` (JSON: container path -> host path). The CLI then
prints every message in the user's terms: "prepare it with `algoperf data
prepare mnist --data-dir /home/me/data`", not "--data-dir /data", which
does not exist where the user types it. Without the variable nothing
changes.

  python -m algoperf.host_paths TEXT   # TEXT mapped (for the entrypoint)
"""

import functools
import json
import os
import re
import sys

ENV = 'ALGOPERF_HOST_PATHS'


@functools.cache
def _pattern_and_mapping(encoded: str):
  try:
    mapping = json.loads(encoded)
  except ValueError:
    return None, {}
  if not isinstance(mapping, dict) or not all(
      isinstance(k, str) and isinstance(v, str) and k.startswith('/')
      for k, v in mapping.items()):
    return None, {}
  mapping = {k.rstrip('/') or '/': v for k, v in mapping.items()}
  if not mapping:
    return None, {}
  # A whole path component: /data and /data/mnist (and /data. ending a
  # sentence), never /opt/x/data, /dataset or the target of -v D:/data.
  # Longest first, so nested mounts map to their own host path.
  alternatives = '|'.join(re.escape(k) for k in sorted(mapping, key=len,
                                                         reverse=True))
  pattern = re.compile(rf'(?<![\w./:-])({alternatives})(?![\w-]|\.\w)')
  return pattern, mapping


def to_host(text: str, environ=None) -> str:
  """``text`` with each container path replaced by its host path."""
  encoded = (os.environ if environ is None else environ).get(ENV)
  if not encoded or not isinstance(text, str):
    return text
  pattern, mapping = _pattern_and_mapping(encoded)
  if pattern is None:
    return text
  return pattern.sub(lambda m: mapping[m.group(1)], text)


class HostPathStream:
  """A text stream that writes through ``to_host`` (sys.stdout/stderr)."""

  def __init__(self, stream):
    self._stream = stream

  def write(self, text):
    return self._stream.write(to_host(text))

  def __getattr__(self, name):
    return getattr(self._stream, name)


def install() -> None:
  """Maps this process's stdout and stderr, when the mounts are known."""
  if os.environ.get(ENV):
    for name in ('stdout', 'stderr'):
      stream = getattr(sys, name)
      if stream is not None and not isinstance(stream, HostPathStream):
        setattr(sys, name, HostPathStream(stream))


if __name__ == '__main__':
  print(to_host(' '.join(sys.argv[1:])))
