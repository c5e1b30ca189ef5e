"""`algoperf data prepare NAME --source DIR` on miniature raw fixtures.

The fixtures (tests/fixtures/algoperf_raw/, written by make_fixtures.py
with PIL, soundfile, sentencepiece, h5py and TFDS's own serializer) are in
the layouts AlgoPerf's data instructions leave. Each test checks the
prepared records against what the fixture files say, read here
independently of the preparation code, and the batches against the model
side's "Batch format" (workloads/<family>/README.md).
"""

import json
import shutil

import numpy as np
import pytest

from algoperf import cli
from algoperf.data import manifest
from algoperf.errors import DataError
from tests.algoperf.data.conftest import RAW
from tests.algoperf.data.conftest import fixture_writer
from workloads.criteo1tb import dataset as criteo
from workloads.fastmri import dataset as fastmri
from workloads.imagenet_resnet import dataset as imagenet
from workloads.librispeech_conformer import dataset as librispeech
from workloads.ogbg import dataset as ogbg
from workloads.wmt import dataset as wmt


def _read_all(dataset, data_dir, split):
  reader = dataset.open_split(data_dir, split, 'test')
  return reader.read(range(len(reader)))


def test_variants_and_sibling_families_share_one_prepared_copy():
  from algoperf.data import raw

  assert raw.dataset_for('imagenet_vit_map') is raw.dataset_for(
    'imagenet_resnet')
  assert raw.dataset_for('librispeech_deepspeech_tanh') is raw.dataset_for(
    'librispeech_conformer')
  assert raw.dataset_for('wmt_glu_tanh') is wmt.DATASET
  assert raw.dataset_for('mnist') is None  # The CPU suite: TFDS builders.


def test_imagenet_labels_follow_sorted_wordnet_ids(prepare):
  data_dir = prepare(imagenet, 'imagenet')
  train = _read_all(imagenet.DATASET, data_dir, 'train')
  wnids = sorted(p.name for p in (RAW / 'imagenet' / 'train').iterdir())
  expected = []
  for label, wnid in enumerate(wnids):
    for path in sorted((RAW / 'imagenet' / 'train' / wnid).iterdir()):
      expected.append((path.read_bytes(), label))
  assert [(r['image'].tobytes(), int(r['label'])) for r in train] == expected
  test = _read_all(imagenet.DATASET, data_dir, 'test')
  assert [int(r['label']) for r in test] == [0, 1]  # imagenet_v2/<label>/.
  batch = imagenet.decode_batch(train[:3], 'train', np.random.default_rng(0))
  assert batch['inputs'].shape == (3, 224, 224, 3)
  assert batch['inputs'].dtype == np.float32
  assert batch['targets'].dtype == np.int32
  # Normalised with AlgoPerf's mean/std on the 0-255 scale.
  assert -2.2 < batch['inputs'].min() and batch['inputs'].max() < 2.7


def test_imagenet_eval_preprocessing_is_a_centre_crop(prepare):
  from PIL import Image

  data_dir = prepare(imagenet, 'imagenet')
  record = _read_all(imagenet.DATASET, data_dir, 'validation')[0]
  path = sorted((RAW / 'imagenet' / 'val').rglob('*.JPEG'))[0]
  image = Image.open(path).convert('RGB')  # 36 x 48 (w x h).
  side = int(224 / 256 * 36)
  top = (48 - side + 1) // 2
  left = (36 - side + 1) // 2
  crop = image.resize((224, 224), Image.BICUBIC,
                      box=(left, top, left + side, top + side))
  want = (np.asarray(crop, np.float32) - np.float32(imagenet.MEAN_RGB)) / (
    np.float32(imagenet.STDDEV_RGB))
  got = imagenet.decode_batch([record], 'validation', None)['inputs'][0]
  np.testing.assert_allclose(got, want, rtol=1e-6)


def test_imagenet_from_the_training_tar(tmp_path):
  import tarfile

  source = tmp_path / 'source'
  shutil.copytree(RAW / 'imagenet', source)
  with tarfile.open(source / 'ILSVRC2012_img_train.tar', 'w') as outer:
    for wnid_dir in sorted((source / 'train').iterdir()):
      inner = tmp_path / f'{wnid_dir.name}.tar'
      with tarfile.open(inner, 'w') as tar:
        for image in sorted(wnid_dir.iterdir()):
          tar.add(image, arcname=image.name)
      outer.add(inner, arcname=inner.name)
  shutil.rmtree(source / 'train')
  imagenet.DATASET.prepare(source, tmp_path / 'data')
  train = _read_all(imagenet.DATASET, tmp_path / 'data', 'train')
  assert [int(r['label']) for r in train] == [0, 0, 0, 1, 1, 1]


def test_imagenet_from_the_validation_tar(tmp_path, monkeypatch):
  """The flat ILSVRC2012_img_val.tar, labelled in image-name order by
  TFDS's validation_labels.txt (50,000 lines; here the fixture's two)."""
  import tarfile

  assert len(imagenet.validation_labels()) == 50_000
  source = tmp_path / 'source'
  shutil.copytree(RAW / 'imagenet', source)
  images = sorted((source / 'val').rglob('*.JPEG'), key=lambda p: p.name)
  expected = [(p.read_bytes(), ['n01440764', 'n01443537'].index(
    p.parent.name)) for p in images]
  with tarfile.open(source / 'ILSVRC2012_img_val.tar', 'w') as tar:
    for image in reversed(images):  # Tar order is not name order.
      tar.add(image, arcname=image.name)
  monkeypatch.setattr(imagenet, 'validation_labels',
                      lambda: [p.parent.name for p in images])
  shutil.rmtree(source / 'val')
  imagenet.DATASET.prepare(source, tmp_path / 'data')
  validation = _read_all(imagenet.DATASET, tmp_path / 'data', 'validation')
  assert [(r['image'].tobytes(), int(r['label']))
          for r in validation] == expected


def _transcripts(subsets):
  lines = []
  for subset in subsets:
    for trans in sorted((RAW / 'librispeech' / 'LibriSpeech' / subset)
                        .glob('*/*/*.trans.txt')):
      lines += [line.split(' ', 1) for line in trans.read_text().splitlines()]
  return lines


def test_librispeech_tokenises_and_drops_long_transcripts(prepare):
  import sentencepiece
  import soundfile

  data_dir = prepare(librispeech, 'librispeech')
  tokenizer = sentencepiece.SentencePieceProcessor(
    model_file=str(RAW / 'librispeech' / 'spm_model.vocab'))
  for split, subsets in librispeech.SPLITS.items():
    kept = [(u, t) for u, t in _transcripts(subsets) if len(t) <= 256]
    records = _read_all(librispeech.DATASET, data_dir, split)
    assert len(records) == len(kept) < len(_transcripts(subsets))
    for record, (utterance, text) in zip(records, kept):
      assert record['targets'].tolist() == (
        tokenizer.encode(text) + [tokenizer.eos_id()])
      speaker, chapter, _ = utterance.split('-')
      flac = next((RAW / 'librispeech' / 'LibriSpeech').glob(
        f'*/{speaker}/{chapter}/{utterance}.flac'))
      audio, _ = soundfile.read(flac, dtype='int16')
      np.testing.assert_array_equal(record['audio'], audio)
  batch = librispeech.decode_batch(records, 'test', None)
  (audio, audio_paddings), (ids, id_paddings) = (batch['inputs'],
                                                 batch['targets'])
  assert audio.shape == audio_paddings.shape == (len(records), 320000)
  assert ids.shape == id_paddings.shape == (len(records), 256)
  n = len(records[0]['audio'])
  assert audio_paddings[0, :n].sum() == 0 and audio_paddings[0, n:].all()
  # int16 scale, not divided by 32768.
  assert np.abs(audio).max() > 1.0
  detokenize = librispeech.load_detokenizer(data_dir)
  assert detokenize(ids[0]) == kept[0][1]


def test_criteo_matches_algoperf_parsing_of_each_line(prepare):
  import farmhash

  data_dir = prepare(criteo, 'criteo1tb')
  lines = (RAW / 'criteo1tb' / 'day_23_19').read_text().splitlines()
  record = _read_all(criteo.DATASET, data_dir, 'validation')[0]
  fields = lines[0].split('\t')
  assert float(record['targets']) == float(fields[0])
  for i in range(13):
    value = float(fields[1 + i]) if fields[1 + i] else 0.0
    assert record['inputs'][i] == np.float32(np.log(
      np.float32(max(value, 0.0)) + np.float32(1)))
  for i in range(26):
    field = fields[14 + i] or '00000000'
    bucket = farmhash.fingerprint64(f'{field}{i}') % criteo.VOCAB_SIZES[i]
    assert record['inputs'][13 + i] == np.float32(bucket)
  sizes = {split: len(_read_all(criteo.DATASET, data_dir, split))
           for split in ('train', 'validation', 'test')}
  assert sizes == {'train': 46, 'validation': 17, 'test': 19}
  batch = criteo.decode_batch([record, record], 'validation', None)
  assert batch['inputs'].shape == (2, 39) and batch['targets'].shape == (2,)
  # The input queue's form: one gather per column.
  reader = criteo.DATASET.open_split(data_dir, 'validation', 'test')
  columns = criteo.decode_batch(reader.read_columns([0, 0]), 'v', None)
  np.testing.assert_array_equal(columns['inputs'], batch['inputs'])


def test_ogbg_graphs_and_their_packed_batch(prepare):
  data_dir = prepare(ogbg, 'ogbg')
  records = _read_all(ogbg.DATASET, data_dir, 'train')
  assert len(records) == 6
  batch = ogbg.decode_batch(records[:4], 'train', None, num_devices=2)
  b = 2
  inputs = batch['inputs']
  assert inputs['nodes'].shape == (2 * (26 * b + 1), 9)
  assert inputs['edges'].shape == (2 * 56 * b, 3)
  assert inputs['n_node'].shape == inputs['n_edge'].shape == (2 * (b + 1),)
  assert batch['targets'].shape == batch['weights'].shape == (2 * (b + 1), 128)
  assert inputs['n_node'].sum() == len(inputs['nodes'])
  assert inputs['n_edge'].sum() == len(inputs['edges'])
  # Real graphs first: their sizes, edges stored in both directions.
  first = records[0]
  assert inputs['n_node'][0] == len(first['node_feat'])
  assert inputs['n_edge'][0] == 2 * len(first['edge_feat'])
  m = len(first['edge_feat'])
  np.testing.assert_array_equal(inputs['senders'][:m],
                                first['edge_index'][:, 0])
  np.testing.assert_array_equal(inputs['senders'][m:2 * m],
                                first['edge_index'][:, 1])
  np.testing.assert_array_equal(batch['weights'][0],
                                ~np.isnan(first['labels']))
  assert batch['weights'][b].sum() == 0  # The padding graph.
  # The second device's node ids are offset by the first's node slots.
  assert inputs['senders'][56 * b:].min() >= 26 * b + 1


def test_wmt_tokenises_filters_and_packs(prepare):
  import sentencepiece

  data_dir = prepare(wmt, 'wmt')
  tokenizer = sentencepiece.SentencePieceProcessor(
    model_file=str(RAW / 'wmt' / 'wmt_sentencepiece_model'))
  train = _read_all(wmt.DATASET, data_dir, 'train')
  assert len(train) == 12  # The 300-word pair is dropped.
  packed = _read_all(wmt.DATASET, data_dir, 'train_packed')
  # Every kept pair is in exactly one packed row, in order.
  pieces = []
  for row in packed:
    for segment in range(1, row['inputs_segmentation'].max() + 1):
      where = row['inputs_segmentation'] == segment
      pieces.append(row['inputs'][where].tolist())
      assert row['inputs_position'][where].tolist() == list(
        range(where.sum()))
  assert pieces == [r['inputs'].tolist() for r in train]
  batch = wmt.decode_batch(packed[:2], 'train', None)
  assert set(batch) == set(wmt.PACKED_KEYS) | {'weights'}
  assert all(v.shape == (2, 256) for v in batch.values())
  validation = _read_all(wmt.DATASET, data_dir, 'validation')
  eos = tokenizer.eos_id()
  assert all(r['inputs'][-1] == eos and r['targets'][-1] == eos
             for r in validation)
  batch = wmt.decode_batch(validation, 'validation', None)
  assert set(batch) == {'inputs', 'targets', 'weights'}


@pytest.mark.slow  # 101 HDF5 volumes of 640 x W k-space: ~7 s.
def test_fastmri_slices_and_algoperf_processing(tmp_path):
  import h5py

  source = tmp_path / 'raw'
  source.mkdir()
  fixture_writer().fastmri(source)
  fastmri.DATASET.prepare(source, tmp_path / 'data')
  train = _read_all(fastmri.DATASET, tmp_path / 'data', 'train')
  assert len(train) == 4  # 2 volumes x 2 slices.
  path = sorted((source / 'knee_singlecoil_train').glob('*.h5'))[0]
  with h5py.File(path) as volume:
    np.testing.assert_array_equal(train[0]['kspace'], volume['kspace'][0])
    assert float(train[0]['volume_max']) == volume.attrs['max']
  sizes = {s: len(_read_all(fastmri.DATASET, tmp_path / 'data', s))
           for s in ('validation', 'test')}
  assert sizes == {'validation': 100, 'test': 1}
  for i, record in enumerate(train):
    record.update(_index=i, _seed=7)
  batch = fastmri.decode_batch(train, 'train', np.random.default_rng(0))
  for key in ('inputs', 'targets'):
    assert batch[key].shape == (4, 320, 320)
    assert batch[key].dtype == np.float32
    assert batch[key].min() >= -6 and batch[key].max() <= 6
  assert batch['mean'].shape == batch['std'].shape == (4,)
  again = fastmri.decode_batch(train, 'train', np.random.default_rng(1))
  np.testing.assert_array_equal(again['inputs'], batch['inputs'])


def test_fastmri_mask_keeps_the_centre_and_a_quarter():
  rng = np.random.default_rng(0)
  mask = fastmri.undersampling_mask(368, rng)
  num_low = int(368 * 0.08)
  pad = (368 - num_low + 1) // 2
  assert mask[pad:pad + num_low].all()
  assert 0.15 < mask.mean() < 0.35


# --- Errors: a missing or corrupt source file is named with the fix. ---
def test_a_missing_file_is_named_with_the_instructions(tmp_path):
  source = tmp_path / 'wmt'
  shutil.copytree(RAW / 'wmt', source)
  (source / 'wmt_sentencepiece_model').unlink()
  with pytest.raises(DataError, match=r'wmt_sentencepiece_model is missing.*'
                     r'dataset_setup\.py'):
    wmt.DATASET.prepare(source, tmp_path / 'data')
  assert not (tmp_path / 'data' / 'algoperf' / 'wmt').exists() or not any(
    (tmp_path / 'data' / 'algoperf' / 'wmt').iterdir())


def test_a_corrupt_file_is_named_and_nothing_is_left(tmp_path):
  source = tmp_path / 'imagenet'
  shutil.copytree(RAW / 'imagenet', source)
  bad = sorted((source / 'val').rglob('*.JPEG'))[0]
  bad.write_bytes(b'<html>not found</html>')
  with pytest.raises(DataError, match=f'{bad.name} is not a JPEG'):
    imagenet.DATASET.prepare(source, tmp_path / 'data')
  assert not imagenet.DATASET.is_prepared(tmp_path / 'data')
  assert list((tmp_path / 'data' / 'algoperf' / 'imagenet').iterdir()) == []


def test_a_corrupt_tfrecord_shard_is_named(tmp_path):
  source = tmp_path / 'ogbg'
  shutil.copytree(RAW / 'ogbg', source)
  shard = next(source.rglob('*-train.tfrecord-*'))
  data = bytearray(shard.read_bytes())
  data[20] ^= 0xFF
  shard.write_bytes(bytes(data))
  with pytest.raises(DataError, match=f'{shard.name}: record 0: data '
                     'checksum'):
    ogbg.DATASET.prepare(source, tmp_path / 'data')


def test_too_little_disk_stops_before_writing(tmp_path, monkeypatch):
  import collections

  from algoperf.data import raw

  usage = collections.namedtuple('usage', 'total used free')
  monkeypatch.setattr(raw.shutil, 'disk_usage',
                      lambda path: usage(10**6, 10**6 - 1000, 1000))
  with pytest.raises(DataError, match='needs about .* GB .* free'):
    criteo.DATASET.prepare(RAW / 'criteo1tb', tmp_path / 'data')
  assert not (tmp_path / 'data' / 'algoperf').exists() or not any(
    (tmp_path / 'data' / 'algoperf').rglob('*.array_record'))


def test_the_cli_prepares_verifies_and_names_the_repair(tmp_path, capsys,
                                                       monkeypatch):
  monkeypatch.setenv('COLUMNS', '200')  # Every column of the table.
  data_dir = str(tmp_path / 'data')
  code = cli.main(['data', 'prepare', 'criteo1tb_layernorm', '--source',
                   str(RAW / 'criteo1tb'), '--data-dir', data_dir])
  assert code == 0
  out = capsys.readouterr().out
  assert 'criteo1tb' in out and 'train 46' in out
  directory = criteo.DATASET.directory(data_dir)
  info = json.loads((directory / 'dataset_info.json').read_text())
  assert info['splits'] == {'train': 46, 'validation': 17, 'test': 19}
  assert manifest.problems(directory, full=True) == []
  assert cli.main(['data', 'verify', 'criteo1tb', '--data-dir',
                   data_dir]) == 0
  victim = directory / 'test.inputs.bin'
  victim.write_bytes(victim.read_bytes()[:-10] + b'0123456789')
  assert cli.main(['data', 'verify', 'criteo1tb', '--data-dir',
                   data_dir]) == 1
  err = capsys.readouterr().err
  assert 'algoperf data prepare criteo1tb --source DIR --force' in err


def test_without_source_the_command_says_what_to_pass(tmp_path, capsys):
  code = cli.main(['data', 'prepare', 'wmt', '--data-dir',
                   str(tmp_path)])
  assert code == 1
  assert '--source DIR' in capsys.readouterr().err


def test_a_run_without_prepared_data_stops_naming_the_command(tmp_path):
  from algoperf import study
  from algoperf import study_driver

  spec = study.StudySpec(submission='x', workloads=('ogbg_gelu',),
                         experiment_dir=str(tmp_path), name='n',
                         data_dir=str(tmp_path / 'empty'))
  with pytest.raises(DataError, match=r'algoperf data prepare ogbg_gelu '
                     r'--source DIR --data-dir'):
    study_driver.check_data(spec)


def test_criteo_chunks_split_files_at_line_starts(tmp_path, monkeypatch):
  """Lines are parsed in byte chunks (by a process per core on real
  data): every line once, in order, whatever the chunk size."""
  monkeypatch.setattr(criteo, '_CHUNK_BYTES', 97)
  path = RAW / 'criteo1tb' / 'day_0_00'
  lines = path.read_bytes().splitlines(keepends=True) * 3
  copy = tmp_path / 'day_0_00'
  copy.write_bytes(b''.join(lines))
  blocks = [criteo.parse_chunk((copy, a, b))
            for a, b in criteo._byte_ranges(copy)]  # noqa: SLF001
  assert len(blocks) > 3
  got = np.concatenate([b['inputs'] for b in blocks])
  want = np.stack([criteo.parse_line(line)['inputs'] for line in lines])
  np.testing.assert_array_equal(got, want)


def test_a_malformed_criteo_line_is_named(tmp_path):
  bad = tmp_path / 'day_0_00'
  bad.write_bytes(b'1\t2\t3\n')
  with pytest.raises(DataError, match=r'day_0_00, the line at byte 0: 3 '
                     r'tab-separated fields'):
    criteo.parse_chunk((bad, 0, bad.stat().st_size))


@pytest.mark.slow  # Spawns a process per core.
def test_criteo_parallel_parsing_gives_the_same_columns(tmp_path, prepare,
                                                        monkeypatch):
  monkeypatch.setattr(criteo, '_CHUNK_BYTES', 300)  # Many chunks: a pool.
  criteo.DATASET.prepare(RAW / 'criteo1tb', tmp_path / 'data')
  parallel = criteo.DATASET.open_split(tmp_path / 'data', 'train', 'x')
  serial = criteo.DATASET.open_split(prepare(criteo, 'criteo1tb'), 'train',
                                     'x')
  for key in ('inputs', 'targets'):
    np.testing.assert_array_equal(parallel.read_columns(range(46))[key],
                                  serial.read_columns(range(46))[key])


@pytest.mark.slow  # Spawns a process per core.
def test_librispeech_parallel_decoding_keeps_the_order(tmp_path, prepare,
                                                        monkeypatch):
  monkeypatch.setattr(librispeech, '_PARALLEL_CHAPTERS', 1)
  librispeech.DATASET.prepare(RAW / 'librispeech', tmp_path / 'data')
  serial_dir = prepare(librispeech, 'librispeech')
  for split in librispeech.SPLITS:
    parallel = _read_all(librispeech.DATASET, tmp_path / 'data', split)
    serial = _read_all(librispeech.DATASET, serial_dir, split)
    assert [r['targets'].tolist() for r in parallel] == [
      r['targets'].tolist() for r in serial]
    assert all(np.array_equal(a['audio'], b['audio'])
               for a, b in zip(parallel, serial))
