"""Utterances to padded log-mel features, in fresh processes.

eSpeak NG keeps state from one utterance to the next (a pitch-flutter
phase, for one): the same text with the same settings comes out a few
samples different each time, and no API call resets it. With its random
numbers seeded per utterance, its output is a fixed function of everything
synthesised since the library was loaded. So each chunk of ``CHUNK_SIZE``
consecutive utterances is made by a new Python process that loads the
library afresh, and the dataset is the same whatever the number of worker
processes and whoever ran before.

Run as ``python -m workloads.espeak_conformer.synthesis PACKAGE_DIR FIRST
COUNT OUT.npz`` by ``synthesise``; nothing else imports the library.
"""

import concurrent.futures
import os
import pathlib
import subprocess
import sys
import tempfile

import numpy as np

from workloads.espeak_conformer import espeak
from workloads.espeak_conformer import features
from workloads.espeak_conformer import utterances

CHUNK_SIZE = 1000
MAX_FRAMES = 256  # 2.56 s; a longer utterance is redrawn (utterances.draw).
MARGIN = 4 * features.HOP  # Silence kept around the speech (40 ms a side).
SILENCE = 64  # |sample| at or below this (of 32767) counts as silence.
_REPO = pathlib.Path(__file__).resolve().parents[2]


def trim(samples: np.ndarray) -> np.ndarray:
  """The speech with ``MARGIN`` samples of what surrounds it, if any."""
  loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > SILENCE)
  if not len(loud):
    return samples
  return samples[max(0, loud[0] - MARGIN):loud[-1] + 1 + MARGIN]


def add_noise(samples: np.ndarray, snr_db: float, seed: int) -> np.ndarray:
  """float32 samples plus white noise ``snr_db`` below the speech power."""
  audio = samples.astype(np.float32)
  power = float(np.mean(audio ** 2)) if len(audio) else 0.0
  scale = np.sqrt(power / 10 ** (snr_db / 10))
  noise = np.random.default_rng(seed).standard_normal(len(audio))
  return audio + (scale * noise).astype(np.float32)


def make_example(synth: espeak.Synthesizer, index: int) -> dict:
  """Stored form of utterance ``index``: features padded to MAX_FRAMES."""
  attempt = 0
  while True:
    utterance = utterances.draw(index, attempt)
    audio = trim(synth.speak(utterance.text, utterance.voice, utterance.rate,
                             utterance.pitch, utterance.pitch_range,
                             utterance.seed))
    if features.num_frames(len(audio)) <= MAX_FRAMES:
      break
    attempt += 1
  log_mel = features.log_mel(
    add_noise(audio, utterance.snr_db, utterance.seed))
  padded = np.zeros((MAX_FRAMES, features.NUM_MEL_BINS), np.float16)
  padded[:len(log_mel)] = log_mel
  targets = np.zeros(utterances.MAX_WORDS, np.int32)
  targets[:len(utterance.word_ids)] = utterance.word_ids
  return {'features': padded, 'num_frames': np.int32(len(log_mel)),
          'targets': targets, 'num_samples': np.int32(len(audio))}


def make_chunk(package_dir: pathlib.Path, first: int, count: int) -> dict:
  """Utterances ``first`` .. ``first + count - 1``, stacked."""
  synth = espeak.Synthesizer(package_dir)
  examples = [make_example(synth, i) for i in range(first, first + count)]
  return {k: np.stack([e[k] for e in examples]) for k in examples[0]}


def _run_chunk(package_dir: pathlib.Path, first: int, count: int,
               out_dir: pathlib.Path) -> dict:
  out = out_dir / f'{first}.npz'
  env = dict(os.environ, OPENBLAS_NUM_THREADS='1', OMP_NUM_THREADS='1',
             PYTHONPATH=os.pathsep.join([str(_REPO)] + os.environ.get(
               'PYTHONPATH', '').split(os.pathsep)))
  command = [sys.executable, '-m', __name__, str(package_dir), str(first),
             str(count), str(out)]
  result = subprocess.run(command, capture_output=True, text=True, env=env,
                          check=False)
  if result.returncode != 0:
    raise RuntimeError(f'Synthesising utterances {first}..{first + count - 1}'
                       f' failed: {result.stderr.strip()[-2000:]}')
  with np.load(out) as chunk:
    return dict(chunk)


def _usable_cores() -> int:
  if hasattr(os, 'sched_getaffinity'):  # Linux: the cores we may run on.
    return len(os.sched_getaffinity(0))
  return os.cpu_count() or 1


def synthesise(package_dir: pathlib.Path, first: int, count: int,
               workers: int | None = None) -> dict:
  """Utterances ``first`` .. ``first + count - 1`` as stacked arrays.

  Chunks start at multiples of CHUNK_SIZE from ``first``, each in its own
  process; ``workers`` processes at a time (default: the usable cores).
  """
  workers = workers or _usable_cores()
  starts = range(first, first + count, CHUNK_SIZE)
  with tempfile.TemporaryDirectory() as tmp, \
      concurrent.futures.ThreadPoolExecutor(workers) as pool:
    chunks = list(pool.map(
      lambda s: _run_chunk(package_dir, s, min(CHUNK_SIZE, first + count - s),
                           pathlib.Path(tmp)), starts))
  return {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}


def main(argv):
  package_dir, first, count, out = argv
  chunk = make_chunk(pathlib.Path(package_dir), int(first), int(count))
  np.savez(out, **chunk)


if __name__ == '__main__':
  main(sys.argv[1:])
