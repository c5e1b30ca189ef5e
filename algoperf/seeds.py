"""Seeds derived from names, never from Python's salted ``hash()``."""

import hashlib


def derive_seed(*parts) -> int:
  """A 31-bit seed that depends only on ``parts`` (stable across runs)."""
  text = '\x1f'.join(str(p) for p in parts)
  return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], 'big') >> 1
