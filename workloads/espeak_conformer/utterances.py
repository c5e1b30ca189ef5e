"""What each utterance says and who says it: a closed vocabulary, random
word strings, and eSpeak voice settings drawn per utterance.

Word strings are drawn uniformly with no grammar, so no word can be guessed
from its neighbours: every word must be recognised from the audio. The 30
words are the ten digits, ten colours and ten animals, one or two
syllables each, no two of them homophones. A "speaker" is one of
eSpeak's English accents with one of its voice variants, at a rate, pitch
and pitch range drawn per utterance, so no two utterances share every
setting. Utterance ``i`` depends only on ``(SEED, i)``.
"""

import dataclasses

import numpy as np

SEED = 20240611
WORDS = (
  'zero one two three four five six seven eight nine '
  'red green blue yellow orange purple black white brown gray '
  'cat dog horse mouse tiger rabbit eagle snake whale monkey'
).split()
VOCAB_SIZE = len(WORDS) + 1  # Id 0 is the CTC blank (and label padding).
MIN_WORDS, MAX_WORDS = 3, 6
# eSpeak NG's English accents (en-Shaw, Shavian spelling, left out).
ACCENTS = ('en-us', 'en', 'en-029', 'en-gb-scotland', 'en-gb-x-gbclan',
           'en-gb-x-gbcwmd', 'en-gb-x-rp', 'en-us-nyc')
# Voice variants that sound like people (not robots, whispers or effects).
VARIANTS = ('m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'f1', 'f2', 'f3', 'f4',
            'klatt', 'klatt2', 'klatt3', 'Andy', 'Annie', 'Denis', 'Gene',
            'Lee', 'Storm', 'aunty', 'boris', 'david', 'ed', 'edward', 'iven',
            'john', 'linda', 'max', 'michel', 'norbert', 'paul', 'pablo',
            'rob', 'robert', 'steph', 'travis', 'zac')
RATE_WPM = (140, 220)  # eSpeak's default is 175.
PITCH = (20, 80)  # 0-100; default 50.
PITCH_RANGE = (20, 80)  # 0-100; default 50.
SNR_DB = (10.0, 30.0)  # Additive white noise against the speech's power.


@dataclasses.dataclass(frozen=True)
class Utterance:
  """One utterance's words (ids into WORDS, from 1) and voice settings."""

  word_ids: tuple[int, ...]
  voice: str
  rate: int
  pitch: int
  pitch_range: int
  snr_db: float
  seed: int  # Of eSpeak's random numbers and of the added noise.

  @property
  def text(self) -> str:
    return ' '.join(WORDS[i - 1] for i in self.word_ids)


def draw(index: int, attempt: int = 0) -> Utterance:
  """Utterance ``index``; ``attempt`` > 0 redraws one that ran too long."""
  rng = np.random.default_rng([SEED, index, attempt])
  num_words = int(rng.integers(MIN_WORDS, MAX_WORDS + 1))
  word_ids = tuple(int(i) + 1 for i in rng.integers(0, len(WORDS), num_words))
  accent = ACCENTS[rng.integers(len(ACCENTS))]
  variant = VARIANTS[rng.integers(len(VARIANTS))]
  return Utterance(
    word_ids=word_ids,
    voice=f'{accent}+{variant}',
    rate=int(rng.integers(RATE_WPM[0], RATE_WPM[1] + 1)),
    pitch=int(rng.integers(PITCH[0], PITCH[1] + 1)),
    pitch_range=int(rng.integers(PITCH_RANGE[0], PITCH_RANGE[1] + 1)),
    snr_db=float(rng.uniform(*SNR_DB)),
    seed=int(rng.integers(2**31)),
  )
