"""WMT German->English from the TFDS copies AlgoPerf prepares, as records.

Data side of wmt (AlgoPerf 2c90454, ``wmt/input_pipeline.py``). AlgoPerf
builds TFDS ``wmt17_translate/de-en:1.0.0`` (train, eval_train) and
``wmt14_translate/de-en:1.0.0`` (validation, test) and trains a 32,000-piece
SentencePiece model, ``wmt_sentencepiece_model``. This reads the TFRecord
shards (no TensorFlow), tokenises both sides with that model (EOS appended,
no BOS) and drops pairs with more than 256 tokens on either side, as
AlgoPerf does. Stored: ``inputs`` / ``targets`` int32 [n] per pair for the
splits train (read unpacked by eval_train), validation and test; and
``train_packed``, the training pairs packed into 256-token rows as
AlgoPerf's ``pack_dataset`` packs them (``inputs``, ``targets``,
``*_position``, ``*_segmentation`` int32 [256] each). AlgoPerf packs a
freshly shuffled stream every run; here the rows are packed once, in the
TFDS file order (shuffled by TFDS when it wrote them), and training
shuffles the rows: batch ``k`` stays addressable, so a resumed trial gets
the same batches.

``--source`` is AlgoPerf's WMT data folder (``dataset_setup.py --wmt``):
``wmt17_translate/de-en/1.0.0/``, ``wmt14_translate/de-en/1.0.0/`` and
``wmt_sentencepiece_model``.
"""

import numpy as np

from algoperf.data import raw
from algoperf.data import tfrecord
from algoperf.errors import DataError

MAX_LENGTH = 256
TOKENIZER = 'wmt_sentencepiece_model'
SOURCES = {  # split -> (TFDS folder, TFDS split)
  'train': (('wmt17_translate', 'de-en', '1.0.0'), 'train'),
  'validation': (('wmt14_translate', 'de-en', '1.0.0'), 'validation'),
  'test': (('wmt14_translate', 'de-en', '1.0.0'), 'test'),
}
PACKED_KEYS = ('inputs', 'targets', 'inputs_position', 'targets_position',
               'inputs_segmentation', 'targets_segmentation')


class Wmt(raw.RawDataset):
  name = 'wmt'
  features = {'inputs': 'int32', 'targets': 'int32'}
  splits = ('train', 'validation', 'test', 'train_packed')
  source_layout = (
    'wmt17_translate/de-en/1.0.0/, wmt14_translate/de-en/1.0.0/ (TFDS '
    'folders) and wmt_sentencepiece_model (AlgoPerf\'s dataset_setup.py '
    '--wmt output).')
  # Which stored split each input queue reads.
  queue_splits = {'train': 'train_packed', 'eval_train': 'train'}

  def split_features(self, split):
    if split == 'train_packed':
      return {k: 'int32' for k in PACKED_KEYS}
    return self.features

  def plan(self, source):
    if not (source / TOKENIZER).is_file():
      raise self.missing(source / TOKENIZER, 'the SentencePiece model '
                         'AlgoPerf\'s setup trains on WMT17')
    files = {}
    for split, (folder, tfds_split) in SOURCES.items():
      directory = source.joinpath(*folder)
      if not directory.is_dir():
        raise self.missing(directory, f'TFDS {folder[0]}/{folder[1]}:'
                           f'{folder[2]}')
      files[split] = tfrecord.split_shards(directory, tfds_split)
    size = raw.file_size([p for shards in files.values() for p in shards])
    # Ids take about as many bytes as the text; packed rows once more.
    return raw.Plan(files=files, estimate_bytes=int(size * 2.2) + (1 << 20))

  def examples(self, split, plan, source):
    if split == 'train_packed':
      yield from pack(self.examples('train', plan, source))
      return
    tokenizer = load_tokenizer(source / TOKENIZER)
    eos = tokenizer.eos_id()
    for shard in plan.files[split]:
      for data in tfrecord.read_records(shard):
        example = tfrecord.parse_example(data)
        if 'de' not in example or 'en' not in example:
          raise DataError(f'{shard}: an example has no de/en text '
                          f'(features {sorted(example)}); prepare it again '
                          'with tfds.')
        inputs = tokenizer.encode(example['de'][0].decode('utf-8')) + [eos]
        targets = tokenizer.encode(example['en'][0].decode('utf-8')) + [eos]
        if max(len(inputs), len(targets)) > MAX_LENGTH:
          continue
        yield {'inputs': np.asarray(inputs, np.int32),
               'targets': np.asarray(targets, np.int32)}

  def extra_files(self, plan, source):
    return {TOKENIZER: (source / TOKENIZER).read_bytes()}

  def stored_arrays(self, records, split):
    """An eval split in memory, the model side's stored form: ``inputs``,
    ``targets`` int32 [N, 256] and ``weights`` (its own evaluation decodes
    and scores BLEU over whole splits)."""
    return decode_batch(records, split, None)


def pack(pairs, length: int = MAX_LENGTH):
  """Greedy packing into rows of ``length`` (AlgoPerf's pack_dataset).

  A pair joins the current row when both of its sides fit; otherwise the
  row is emitted and a new one begun. Positions count from 0 within each
  pair, segments from 1 within each row; padding is 0 everywhere.
  """
  row, used, segment = None, {}, 0

  def empty():
    return {k: np.zeros(length, np.int32) for k in PACKED_KEYS}

  for pair in pairs:
    sizes = {k: len(pair[k]) for k in ('inputs', 'targets')}
    if row is not None and any(used[k] + sizes[k] > length for k in sizes):
      yield row
      row = None
    if row is None:
      row, used, segment = empty(), {'inputs': 0, 'targets': 0}, 0
    segment += 1
    for key, size in sizes.items():
      start = used[key]
      row[key][start:start + size] = pair[key]
      row[f'{key}_position'][start:start + size] = np.arange(size)
      row[f'{key}_segmentation'][start:start + size] = segment
      used[key] += size
  if row is not None:
    yield row


def load_tokenizer(path):
  return raw.load_sentencepiece(path, "AlgoPerf's dataset_setup.py trained")


DATASET = Wmt()


def load_detokenizer(data_dir):
  """ids (1-D int) -> text with the prepared SentencePiece model (BLEU)."""
  from algoperf.data import dirs

  path = DATASET.directory(dirs.resolve_data_dir(data_dir)) / TOKENIZER
  tokenizer = load_tokenizer(path)
  return lambda ids: tokenizer.decode([int(i) for i in ids if int(i) > 0])


def decode_batch(records: list, split: str, rng) -> dict:
  """Stored pairs / packed rows -> AlgoPerf's batch with ``weights``.

  Training reads ``train_packed`` rows; eval splits are padded to 256.
  """
  del rng
  if split == 'train':
    batch = {k: np.stack([r[k] for r in records]) for k in PACKED_KEYS}
    batch['weights'] = (batch['targets'] > 0).astype(np.float32)
    return batch
  num = len(records)
  inputs = np.zeros((num, MAX_LENGTH), np.int32)
  targets = np.zeros((num, MAX_LENGTH), np.int32)
  real = np.ones((num, 1), np.float32)
  for row, record in enumerate(records):
    inputs[row, :len(record['inputs'])] = record['inputs']
    targets[row, :len(record['targets'])] = record['targets']
    if record.get('_padding'):
      real[row] = 0.0
  return {'inputs': inputs, 'targets': targets,
          'weights': (targets > 0).astype(np.float32) * real}

# The name the model side imports (workload.py: dataset_builder).
BUILDER = DATASET

# The name the model side imports (workload.py: detokenizer).
detokenizer = load_detokenizer
