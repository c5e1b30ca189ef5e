"""LibriSpeech from the user's FLAC files and transcripts, as records.

Data side of librispeech_conformer and librispeech_deepspeech (AlgoPerf
2c90454: ``datasets/librispeech_preprocess.py`` + the workloads' loader).
Stored form per utterance: ``audio`` int16 [n] (16 kHz samples at int16
scale, as AlgoPerf's pydub decoding gives them) and ``targets`` int32 [m]
(SentencePiece ids of the transcript, then EOS). As AlgoPerf's
preprocessing, utterances whose transcript has more than 256 characters or
whose audio has more than 320,000 samples are dropped, not truncated.
Splits: train = train-clean-100 + train-clean-360 + train-other-500,
validation = dev-clean + dev-other, test = test-clean.

``--source`` holds the extracted ``LibriSpeech/`` folder (or its subsets
directly): ``<subset>/<speaker>/<chapter>/<speaker>-<chapter>.trans.txt``
beside the ``<utterance>.flac`` files it lists; and ``spm_model.vocab``, the
SentencePiece model AlgoPerf's ``librispeech_tokenizer`` trains (1024
pieces, unigram; despite its name the file is the serialized model). The
model is copied into the prepared dataset: the WER detokenises with it.
"""

import functools
import os
import pathlib

import numpy as np

from algoperf.data import raw
from algoperf.errors import DataError

AUDIO_MAX_LENGTH = 320_000
TRANSCRIPTION_MAX_LENGTH = 256
TOKENIZER = 'spm_model.vocab'
SPLITS = {
  'train': ('train-clean-100', 'train-clean-360', 'train-other-500'),
  'validation': ('dev-clean', 'dev-other'),
  'test': ('test-clean',),
}
# FLAC compresses LibriSpeech's int16 audio to about 60% of raw.
_FLAC_RATIO = 1.0 / 0.6


class LibriSpeech(raw.RawDataset):
  name = 'librispeech'
  features = {'audio': 'int16', 'targets': 'int32'}
  source_layout = (
    'LibriSpeech/<subset>/<speaker>/<chapter>/ (FLAC + .trans.txt) for '
    'train-clean-100, train-clean-360, train-other-500, dev-clean, '
    'dev-other and test-clean, and spm_model.vocab (AlgoPerf\'s '
    'dataset_setup.py --librispeech output).')

  def _root(self, source: pathlib.Path) -> pathlib.Path:
    nested = source / 'LibriSpeech'
    return nested if nested.is_dir() else source

  def plan(self, source):
    root = self._root(source)
    tokenizer = source / TOKENIZER
    if not tokenizer.is_file():
      raise self.missing(tokenizer, 'the SentencePiece model AlgoPerf\'s '
                         'librispeech_tokenizer trains')
    files = {}
    size = 0
    for split, subsets in SPLITS.items():
      chapters = []
      for subset in subsets:
        folder = root / subset
        if not folder.is_dir():
          raise self.missing(folder, f'the {subset} subset')
        found = sorted(folder.glob('*/*/*.trans.txt'))
        if not found:
          raise DataError(f'{folder} holds no <speaker>/<chapter>/*.trans.txt'
                          ' transcripts; extract the subset\'s archive again.')
        chapters += found
        size += raw.file_size(folder.glob('*/*/*.flac'))
      files[split] = chapters
    return raw.Plan(files=files, estimate_bytes=int(size * _FLAC_RATIO * 1.05)
                    + (1 << 20))

  def examples(self, split, plan, source):
    """Utterances chapter by chapter, in order; FLAC decoding runs in a
    process per core when there are many chapters (~10 ms each: the 280k
    utterances take ~45 CPU-minutes)."""
    tasks = [(trans, source / TOKENIZER) for trans in plan.files[split]]
    if len(tasks) < _PARALLEL_CHAPTERS or (os.cpu_count() or 1) < 2:
      for task in tasks:
        yield from chapter_examples(task)
      return
    import multiprocessing

    with multiprocessing.get_context('spawn').Pool(os.cpu_count()) as pool:
      for chapter in pool.imap(chapter_examples, tasks):
        yield from chapter

  def extra_files(self, plan, source):
    return {TOKENIZER: (source / TOKENIZER).read_bytes()}

  def stored_arrays(self, records, split):
    """An eval split in memory, the model side's flat stored form
    (``inputs``, ``input_paddings``, ``targets``, ``target_paddings``):
    its WER evaluation reads whole splits. NB float32 at 320,000 samples:
    about 2.6 MB per utterance (validation: ~14 GB)."""
    batch = decode_batch(records, split, None)
    (audio, audio_paddings), (ids, id_paddings) = (batch['inputs'],
                                                   batch['targets'])
    return {'inputs': audio, 'input_paddings': audio_paddings,
            'targets': ids, 'target_paddings': id_paddings}


_PARALLEL_CHAPTERS = 64


@functools.cache
def _tokenizer(path):
  return load_tokenizer(path)


def chapter_examples(task) -> list:
  """The stored utterances of one chapter's .trans.txt, AlgoPerf's filters
  applied (transcript > 256 characters or audio > 320,000 samples:
  dropped)."""
  trans, tokenizer_path = task
  tokenizer = _tokenizer(tokenizer_path)
  out = []
  for utterance, text in _transcripts(trans):
    if len(text) > TRANSCRIPTION_MAX_LENGTH:
      continue
    flac = trans.parent / f'{utterance}.flac'
    if not flac.is_file():
      raise DataError(f'{flac} is missing: {trans} lists it. Extract the '
                      'subset\'s archive again.')
    audio = _read_flac(flac)
    if len(audio) > AUDIO_MAX_LENGTH:
      continue
    ids = tokenizer.encode(text) + [tokenizer.eos_id()]
    out.append({'audio': audio, 'targets': np.asarray(ids, np.int32)})
  return out


def _transcripts(path: pathlib.Path):
  """(utterance id, text) per line of a LibriSpeech .trans.txt."""
  with open(path, encoding='utf-8') as f:
    for number, line in enumerate(f, 1):
      line = line.strip()
      if not line:
        continue
      utterance, _, text = line.partition(' ')
      if not text:
        raise DataError(f'{path}:{number}: expected "<utterance-id> "'
                        f'"<TRANSCRIPT>", got {line[:60]!r}')
      yield utterance, text


def _read_flac(path: pathlib.Path) -> np.ndarray:
  import soundfile

  try:
    audio, rate = soundfile.read(str(path), dtype='int16')
  except (RuntimeError, soundfile.LibsndfileError) as e:
    raise DataError(f'{path} cannot be decoded as FLAC ({e}); extract it '
                    'again from the LibriSpeech archive.') from None
  if audio.ndim != 1 or rate != 16000:
    raise DataError(f'{path}: expected 16 kHz mono (LibriSpeech), got '
                    f'{rate} Hz with shape {audio.shape}.')
  return audio


def load_tokenizer(path):
  return raw.load_sentencepiece(
    path, "AlgoPerf's librispeech_tokenizer wrote")


DATASET = LibriSpeech()


def load_detokenizer(data_dir):
  """ids (1-D int) -> text, with the prepared dataset's SentencePiece model
  (the WER's reference and hypothesis words)."""
  from algoperf.data import dirs

  path = DATASET.directory(dirs.resolve_data_dir(data_dir)) / TOKENIZER
  tokenizer = load_tokenizer(path)
  return lambda ids: tokenizer.decode([int(i) for i in ids if int(i) > 0])


def decode_batch(records: list, split: str, rng) -> dict:
  """Stored utterances -> AlgoPerf's batch: padded audio and ids + paddings.

  No augmentation in the pipeline (SpecAugment is the model's).
  """
  del split, rng
  num = len(records)
  audio = np.zeros((num, AUDIO_MAX_LENGTH), np.float32)
  audio_paddings = np.ones((num, AUDIO_MAX_LENGTH), np.float32)
  ids = np.zeros((num, TRANSCRIPTION_MAX_LENGTH), np.int32)
  id_paddings = np.ones((num, TRANSCRIPTION_MAX_LENGTH), np.float32)
  for row, record in enumerate(records):
    n, m = len(record['audio']), len(record['targets'])
    audio[row, :n] = record['audio']
    audio_paddings[row, :n] = 0.0
    ids[row, :m] = record['targets']
    id_paddings[row, :m] = 0.0
  return {'inputs': (audio, audio_paddings), 'targets': (ids, id_paddings)}

# The name the model side imports (workload.py: dataset_builder).
BUILDER = DATASET
