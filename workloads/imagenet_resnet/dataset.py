"""ImageNet (ILSVRC 2012) + ImageNet-v2 from the user's raw files, as records.

Data side of imagenet_resnet and imagenet_vit (AlgoPerf 2c90454,
``imagenet_jax/input_pipeline.py``). Stored form per image: ``image`` the
JPEG file's bytes (uint8 [n], decoded per batch) and ``label`` int32 (the
index of its WordNet id among the sorted training ids, TFDS
``imagenet2012``'s label order). Splits: train (ILSVRC train), validation
(ILSVRC val, 50,000), test (ImageNet-v2 matched-frequency, 10,000).

``--source`` holds what AlgoPerf's ``dataset_setup.py --imagenet`` leaves:
``train/<wnid>/*.JPEG`` and ``val/<wnid>/*.JPEG`` (its PyTorch layout), or
``ILSVRC2012_img_train.tar`` (one ``<wnid>.tar`` per class) in place of
``train/`` and ``ILSVRC2012_img_val.tar`` (labelled by TFDS's bundled
``validation_labels.txt``, as AlgoPerf's TFDS data is) in place of
``val/``; and ImageNet-v2 as ``imagenet_v2/<label>/*.jpeg`` (the
matched-frequency archive's folders, named by label index; also accepted
under its archive name ``imagenetv2-matched-frequency-format-val``).
"""

import concurrent.futures
import functools
import io
import os
import pathlib
import tarfile

import numpy as np

from algoperf.data import raw
from algoperf.errors import DataError

IMAGE_SIZE = 224
RESIZE_SIZE = 256  # Eval: centre crop of 224/256 of the short side.
MEAN_RGB = (0.485 * 255, 0.456 * 255, 0.406 * 255)
STDDEV_RGB = (0.229 * 255, 0.224 * 255, 0.225 * 255)
AREA_RANGE = (0.08, 1.0)
ASPECT_RATIO_RANGE = (0.75, 4.0 / 3.0)
MIN_OBJECT_COVERED = 0.1
MAX_ATTEMPTS = 10
_V2_NAMES = ('imagenet_v2', 'imagenetv2-matched-frequency-format-val')
_EXTENSIONS = ('.jpeg', '.jpg')


def _images(folder: pathlib.Path) -> list:
  return sorted(p for p in folder.iterdir()
                if p.suffix.lower() in _EXTENSIONS)


class ImageNet(raw.RawDataset):
  name = 'imagenet'
  features = {'image': 'uint8', 'label': 'int32'}
  source_layout = (
    'train/<wnid>/*.JPEG (or ILSVRC2012_img_train.tar), val/<wnid>/*.JPEG '
    '(or ILSVRC2012_img_val.tar) and imagenet_v2/<label>/*.jpeg '
    '(AlgoPerf\'s dataset_setup.py --imagenet output).')

  def plan(self, source):
    train_tar = source / 'ILSVRC2012_img_train.tar'
    if (source / 'train').is_dir():
      wnids = sorted(p.name for p in (source / 'train').iterdir()
                     if p.is_dir())
      train = [('dir', source / 'train' / w) for w in wnids]
    elif train_tar.is_file():
      try:
        with tarfile.open(train_tar) as tar:
          members = sorted(m.name for m in tar.getmembers()
                           if m.name.endswith('.tar'))
      except (OSError, tarfile.TarError) as e:
        raise DataError(f'{train_tar} is not a readable tar ({e}); download '
                        'it again.') from None
      wnids = [pathlib.PurePath(m).stem for m in members]
      train = [('tar', train_tar)]
    else:
      raise self.missing(source / 'train', 'the training images')
    if not wnids:
      raise DataError(f'{source}: no class folders (WordNet ids) in the '
                      'training images.')
    val_dir, val_tar = source / 'val', source / 'ILSVRC2012_img_val.tar'
    if val_dir.is_dir():
      unknown = sorted(p.name for p in val_dir.iterdir()
                       if p.is_dir() and p.name not in wnids)
      if unknown:
        raise DataError(f'{val_dir}: class folders {unknown[:3]} are not '
                        'training classes; val/ must use the same WordNet '
                        'ids.')
      validation = [(w, p) for w in wnids if (val_dir / w).is_dir()
                    for p in _images(val_dir / w)]
    elif val_tar.is_file():
      validation = [('tar', val_tar)]
    else:
      raise self.missing(val_dir, 'the validation images by class (or '
                         'ILSVRC2012_img_val.tar)')
    v2 = next((source / n for n in _V2_NAMES if (source / n).is_dir()), None)
    if v2 is None:
      raise self.missing(source / _V2_NAMES[0], 'ImageNet-v2, the test split')
    files = {
      'train': train,
      'validation': validation,
      'test': [(int(d.name), p) for d in sorted(
        (d for d in v2.iterdir() if d.is_dir()), key=lambda d: int(d.name))
        for p in _images(d)],
    }
    size = raw.file_size([p for _, p in files['validation'] + files['test']])
    size += sum(raw.file_size(_images(p)) if kind == 'dir'
                else p.stat().st_size for kind, p in train)
    return raw.Plan(files=dict(files, wnids=wnids),
                    estimate_bytes=int(size * 1.02) + (1 << 20))

  def examples(self, split, plan, source):
    label_of = {w: i for i, w in enumerate(plan.files['wnids'])}
    if split == 'train':
      yield from self._train(plan.files['train'], label_of)
    elif split == 'validation':
      for wnid, path in plan.files['validation']:
        if wnid == 'tar':
          yield from _validation_tar(path, label_of)
        else:
          yield _example(path.read_bytes(), label_of[wnid], path)
    else:
      for label, path in plan.files['test']:
        yield _example(path.read_bytes(), label, path)

  def _train(self, train, label_of):
    for kind, path in train:
      if kind == 'dir':
        for image in _images(path):
          yield _example(image.read_bytes(), label_of[path.name], image)
        continue
      with tarfile.open(path) as outer:  # ILSVRC2012_img_train.tar
        for member in sorted(outer.getmembers(), key=lambda m: m.name):
          if not member.name.endswith('.tar'):
            continue
          wnid = pathlib.PurePath(member.name).stem
          inner_bytes = outer.extractfile(member).read()
          with tarfile.open(fileobj=io.BytesIO(inner_bytes)) as inner:
            for image in sorted(inner.getmembers(), key=lambda m: m.name):
              if image.isfile():
                yield _example(inner.extractfile(image).read(),
                               label_of[wnid], f'{path}:{member.name}/'
                               f'{image.name}')


def _validation_tar(path, label_of):
  """ILSVRC2012_img_val.tar: flat JPEGs, labelled by TFDS's bundled
  validation_labels.txt (one WordNet id per image, in name order), as
  TFDS's imagenet2012 builder (AlgoPerf's JAX data) labels them."""
  wnids = validation_labels()
  with tarfile.open(path) as tar:
    members = sorted((m for m in tar.getmembers() if m.isfile()),
                     key=lambda m: m.name)
    if len(members) != len(wnids):
      raise DataError(f'{path} holds {len(members)} images, TFDS\'s '
                      f'validation labels name {len(wnids)}; download it '
                      'again.')
    for member, wnid in zip(members, wnids):
      yield _example(tar.extractfile(member).read(), label_of[wnid],
                     f'{path}:{member.name}')


def validation_labels() -> list:
  """The 50,000 validation images' WordNet ids, in image-name order."""
  import tensorflow_datasets as tfds

  labels_file = tfds.core.tfds_path(
    'datasets/imagenet2012/validation_labels.txt')
  return pathlib.Path(str(labels_file)).read_text().split()


# ILSVRC 2012 holds a few PNG and CMYK files named .JPEG; PIL decodes both.
_IMAGE_MAGIC = (b'\xff\xd8', b'\x89PNG')


def _example(data: bytes, label: int, where) -> dict:
  if not data.startswith(_IMAGE_MAGIC):
    raise DataError(f'{where} is not a JPEG file (ImageNet images are); '
                    'extract it again from the original archive.')
  return {'image': np.frombuffer(data, np.uint8), 'label': np.int32(label)}


DATASET = ImageNet()


# --- Per-batch decoding (AlgoPerf's preprocess_for_train / _for_eval). ---
def _decode(data) -> 'PIL.Image.Image':  # noqa: F821
  from PIL import Image

  image = Image.open(io.BytesIO(np.asarray(data).tobytes()))
  return image.convert('RGB')


def _center_crop_box(height: int, width: int) -> tuple:
  size = int(IMAGE_SIZE / RESIZE_SIZE * min(height, width))
  top = (height - size + 1) // 2
  left = (width - size + 1) // 2
  return left, top, left + size, top + size


def _random_crop_box(height: int, width: int, rng) -> tuple | None:
  """A crop as sample_distorted_bounding_box draws it, or None (give up)."""
  area = height * width
  for _ in range(MAX_ATTEMPTS):
    target = rng.uniform(*AREA_RANGE) * area
    ratio = rng.uniform(*ASPECT_RATIO_RANGE)
    w = int(round(np.sqrt(target * ratio)))
    h = int(round(np.sqrt(target / ratio)))
    if 0 < w <= width and 0 < h <= height and (
        w * h >= MIN_OBJECT_COVERED * area):
      top = int(rng.integers(0, height - h + 1))
      left = int(rng.integers(0, width - w + 1))
      return left, top, left + w, top + h
  return None


def _normalise(pixels) -> np.ndarray:
  image = np.asarray(pixels, np.float32)
  return (image - np.float32(MEAN_RGB)) / np.float32(STDDEV_RGB)


def preprocess(data, rng=None) -> np.ndarray:
  """One image's model input: float32 [224, 224, 3], normalised."""
  from PIL import Image

  image = _decode(data)
  width, height = image.size
  box = _random_crop_box(height, width, rng) if rng is not None else None
  if box is None or (box[2] - box[0], box[3] - box[1]) == (width, height):
    box = _center_crop_box(height, width)  # AlgoPerf's fallback too.
  image = image.resize((IMAGE_SIZE, IMAGE_SIZE), Image.BICUBIC, box=box)
  pixels = np.asarray(image)
  if rng is not None and rng.random() < 0.5:
    pixels = pixels[:, ::-1]
  return _normalise(pixels)


@functools.cache
def _pool():
  """Decode threads (PIL releases the GIL while decoding and resizing)."""
  return concurrent.futures.ThreadPoolExecutor(min(8, os.cpu_count() or 1))


def decode_batch(records: list, split: str, rng) -> dict:
  """Stored examples -> {'inputs': [B,224,224,3] f32, 'targets': [B] i32}.

  ``rng`` (training only): random crop and flip; otherwise the centre crop.
  """
  del split
  rngs = rng.spawn(len(records)) if rng is not None else [None] * len(records)
  images = _pool().map(preprocess, [r['image'] for r in records], rngs)
  return {
    'inputs': np.stack(list(images)),
    'targets': np.array([int(r['label']) for r in records], np.int32),
  }

# The name the model side imports (workload.py: dataset_builder).
BUILDER = DATASET
