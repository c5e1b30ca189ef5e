"""fastMRI knee single-coil from the user's HDF5 volumes, as slice records.

Data side of fastmri (AlgoPerf 2c90454, ``fastmri/input_pipeline.py``).
Stored form per slice: ``kspace`` complex64 [640, W] (W is 368 or 372 in
the knee data), ``target`` float32 [320, 320] (``reconstruction_esc``) and
``volume_max`` float32 (the volume's ``attrs['max']``, 0 when absent).
The undersampling mask, inverse FFT, crop and normalisation run per batch
(``decode_batch``), because training draws the mask from the run's seed.
Splits as AlgoPerf's: train = every volume of ``knee_singlecoil_train``;
validation = the first 100 volumes of ``knee_singlecoil_val`` (sorted by
name), test = the rest.

``--source`` holds what AlgoPerf's ``dataset_setup.py --fastmri`` leaves:
``knee_singlecoil_train/*.h5`` and ``knee_singlecoil_val/*.h5``, each file
one volume with datasets ``kspace`` [slices, 640, W] complex64 and
``reconstruction_esc`` [slices, 320, 320] float32.
"""

import numpy as np

from algoperf.data import raw
from algoperf.errors import DataError

TRAIN_DIR = 'knee_singlecoil_train'
VAL_DIR = 'knee_singlecoil_val'
NUM_VALIDATION_VOLUMES = 100
CENTER_FRACTION = 0.08
ACCELERATION = 4.0
EVAL_SEED = 0


class FastMRI(raw.RawDataset):
  name = 'fastmri'
  features = {'kspace': 'complex64', 'target': 'float32',
              'volume_max': 'float32'}
  source_layout = (
    'knee_singlecoil_train/*.h5 and knee_singlecoil_val/*.h5 (AlgoPerf\'s '
    'dataset_setup.py --fastmri output).')

  def plan(self, source):
    files = {}
    for folder in (TRAIN_DIR, VAL_DIR):
      if not (source / folder).is_dir():
        raise self.missing(source / folder, 'the fastMRI knee volumes')
    train = sorted((source / TRAIN_DIR).glob('*.h5'))
    val = sorted((source / VAL_DIR).glob('*.h5'))
    if not train or len(val) <= NUM_VALIDATION_VOLUMES:
      raise DataError(
        f'{source}: found {len(train)} training and {len(val)} validation '
        f'volumes; AlgoPerf takes validation from the first '
        f'{NUM_VALIDATION_VOLUMES} of {VAL_DIR} (sorted) and test from the '
        'rest, so it needs more than that. Extract knee_singlecoil_val.tar.xz'
        ' again.')
    files = {'train': train, 'validation': val[:NUM_VALIDATION_VOLUMES],
             'test': val[NUM_VALIDATION_VOLUMES:]}
    # Records hold the same arrays as the files (uncompressed HDF5).
    size = raw.file_size(train + val)
    return raw.Plan(files=files, estimate_bytes=int(size * 1.02) + (1 << 20))

  def examples(self, split, plan, source):
    import h5py

    for path in plan.files[split]:
      try:
        with h5py.File(path, 'r') as volume:
          for key in ('kspace', 'reconstruction_esc'):
            if key not in volume:
              raise DataError(f'{path} has no {key!r} dataset (fastMRI '
                              'single-coil volumes have kspace and '
                              'reconstruction_esc); extract it again.')
          kspace, target = volume['kspace'], volume['reconstruction_esc']
          volume_max = np.float32(volume.attrs.get('max', 0.0))
          for i in range(kspace.shape[0]):
            yield {'kspace': kspace[i].astype(np.complex64),
                   'target': target[i].astype(np.float32),
                   'volume_max': volume_max}
      except OSError as e:
        raise DataError(f'{path} is not a readable HDF5 file ({e}); extract '
                        'it again from the fastMRI archive.') from None


DATASET = FastMRI()


def undersampling_mask(num_cols: int, rng) -> np.ndarray:
  """AlgoPerf's 4x mask over k-space columns: 8% centre + random columns."""
  num_low = int(num_cols * np.float32(CENTER_FRACTION))
  mask = np.zeros(num_cols, np.float32)
  pad = (num_cols - num_low + 1) // 2
  mask[pad:pad + num_low] = 1.0
  prob = (num_cols / ACCELERATION - num_low) / (num_cols - num_low)
  return np.maximum(mask, (rng.random(num_cols) < prob).astype(np.float32))


def process_slice(kspace, target, volume_max, rng) -> dict:
  """One slice's model inputs, as AlgoPerf's ``_process_example``."""
  kspace = np.asarray(kspace, np.complex64)
  rows, cols = kspace.shape
  masked = kspace * undersampling_mask(cols, rng)[None, :].astype(np.complex64)
  image = np.fft.fftshift(np.fft.ifft2(np.fft.ifftshift(masked, axes=(0, 1))),
                          axes=(0, 1))
  image = image * np.sqrt(np.float32(rows * cols))
  h, w = np.shape(target)
  top, left = (rows - h) // 2, (cols - w) // 2
  image = image[top:top + h, left:left + w]
  magnitude = np.abs(image).astype(np.float32)
  mean, std = magnitude.mean(), magnitude.std()
  return {
    'inputs': np.clip((magnitude - mean) / std, -6, 6).astype(np.float32),
    'targets': np.clip((np.asarray(target, np.float32) - mean) / std, -6,
                       6).astype(np.float32),
    'mean': np.float32(mean), 'std': np.float32(std),
    'volume_max': np.float32(volume_max),
  }


def decode_batch(records: list, split: str, rng) -> dict:
  """Stored slices -> AlgoPerf's batch (inputs, targets, mean, std,
  volume_max).

  Training (``rng`` given): each slice's mask is drawn from the run's seed
  and the slice's index, so a slice keeps its mask all run (AlgoPerf folds
  the example index into the shuffle key). Eval: one fixed seed, the same
  mask for every slice of a width (AlgoPerf's ``PRNGKey(0)``).
  """
  del split
  slices = []
  for record in records:
    if rng is None:
      slice_rng = np.random.default_rng(EVAL_SEED)
    else:
      slice_rng = np.random.default_rng(
        [record.get('_seed', 0), record.get('_index', 0), 2])
    slices.append(process_slice(record['kspace'], record['target'],
                                record['volume_max'], slice_rng))
  return {k: np.stack([s[k] for s in slices]) for k in slices[0]}

# The name the model side imports (workload.py: dataset_builder).
BUILDER = DATASET
