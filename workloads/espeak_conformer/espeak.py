"""eSpeak NG, called in process through ctypes, from a pinned wheel.

The ``espeakng-loader`` wheel ships ``libespeak-ng`` and its
``espeak-ng-data`` (voices, dictionaries, phoneme tables) and nothing that
must be installed: we unpack it next to the download and load the library
from there, so the audio depends on the pinned file alone, never on an
espeak-ng the machine may have. The wheel is per platform; each supported
platform's file is pinned, and any other platform is refused by name.

Synthesis is synchronous and to memory: the library hands 16-bit mono
samples to a callback, which we collect.
"""

import ctypes
import functools
import pathlib
import platform
import sys
import zipfile

import numpy as np

from algoperf.data import packages
from algoperf.errors import DataError

VERSION = '0.2.4'
# (sys.platform, machine) -> the wheel pip downloads there.
WHEELS = {
  ('linux', 'x86_64'): packages.PinnedPackage(
    name='espeakng-loader',
    version=VERSION,
    filename=f'espeakng_loader-{VERSION}-py3-none-manylinux_2_17_x86_64.'
    'manylinux2014_x86_64.whl',
    sha256='08721baf27d13d461f6be6eed9a65277e70d68234ff484fd8b9897b222cdcb6d',
  ),
  ('darwin', 'arm64'): packages.PinnedPackage(
    name='espeakng-loader',
    version=VERSION,
    filename=f'espeakng_loader-{VERSION}-py3-none-macosx_11_0_arm64.whl',
    sha256='d27cdca31112226e7299d8562e889d3e38a1e48055c9ee381b45d669072ee59f',
  ),
}
LIBRARY_NAMES = {'linux': 'libespeak-ng.so.1', 'darwin': 'libespeak-ng.dylib'}
PACKAGE_DIR = 'espeakng_loader'
SAMPLE_RATE = 22050  # What the library reports; checked at initialisation.

# speak_lib.h constants.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_PARAM_RATE, _PARAM_PITCH, _PARAM_RANGE = 1, 3, 4
_CALLBACK = ctypes.CFUNCTYPE(
  ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


def platform_wheel() -> packages.PinnedPackage:
  """The pinned wheel for this platform.

  Raises:
    DataError: no wheel of the pinned version is pinned for this platform.
  """
  key = (sys.platform, platform.machine().lower())
  if key not in WHEELS:
    supported = ', '.join(f'{p}/{m}' for p, m in WHEELS)
    raise DataError(
      f'The espeak_conformer data is synthesised with espeakng-loader '
      f'{VERSION}, pinned for {supported} only; this is {key[0]}/{key[1]}. '
      'Prepare the data on a supported machine and copy the prepared '
      'directory here.'
    )
  return WHEELS[key]


def unpack(wheel: pathlib.Path) -> pathlib.Path:
  """Unpacks the wheel beside itself once; the package directory."""
  target = wheel.parent / wheel.name.removesuffix('.whl')
  done = target / '.unpacked'
  if not done.exists():
    with zipfile.ZipFile(wheel) as zf:
      zf.extractall(target)
    done.touch()
  return target / PACKAGE_DIR


@functools.cache
def synthesizer(package_dir: pathlib.Path) -> 'Synthesizer':
  """One synthesizer per unpacked library: its state is process-global."""
  return Synthesizer(package_dir)


class Synthesizer:
  """Text to int16 samples at ``SAMPLE_RATE`` with one voice's settings."""

  def __init__(self, package_dir: pathlib.Path):
    library = package_dir / LIBRARY_NAMES[sys.platform]
    self._lib = ctypes.CDLL(str(library))
    self._lib.espeak_Initialize.argtypes = [
      ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    self._lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    self._lib.espeak_SetParameter.argtypes = [
      ctypes.c_int, ctypes.c_int, ctypes.c_int]
    self._lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
    self._lib.espeak_Synth.argtypes = [
      ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
      ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
    rate = self._lib.espeak_Initialize(
      _AUDIO_OUTPUT_SYNCHRONOUS, 0, str(package_dir).encode(), 0)
    if rate != SAMPLE_RATE:
      raise DataError(f'{library}: initialised at {rate} Hz, expected '
                      f'{SAMPLE_RATE} (a missing espeak-ng-data?).')
    self._chunks = []
    self._callback = _CALLBACK(self._collect)  # Kept alive with self.
    self._lib.espeak_SetSynthCallback(self._callback)

  def _collect(self, samples, num_samples, events):
    del events
    if num_samples > 0:
      self._chunks.append(
        np.ctypeslib.as_array(samples, shape=(num_samples,)).copy())
    return 0  # Go on synthesising.

  def speak(self, text: str, voice: str, rate: int, pitch: int,
            pitch_range: int, seed: int) -> np.ndarray:
    """int16 [num_samples]: ``text`` in ``voice`` ('en-us+f3').

    ``rate`` in words per minute, ``pitch`` and ``pitch_range`` 0-100.
    ``seed`` seeds eSpeak's own random numbers (breath noise of some
    voices), which are otherwise seeded from the clock.
    """
    if self._lib.espeak_SetVoiceByName(voice.encode()) != 0:
      raise DataError(f'eSpeak NG has no voice {voice!r}.')
    for parameter, value in ((_PARAM_RATE, rate), (_PARAM_PITCH, pitch),
                             (_PARAM_RANGE, pitch_range)):
      self._lib.espeak_SetParameter(parameter, int(value), 0)
    self._lib.espeak_ng_SetRandSeed(seed)
    self._chunks = []
    data = text.encode()
    status = self._lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER,
                                    0, _CHARS_UTF8, None, None)
    if status != 0:
      raise DataError(f'espeak_Synth failed ({status}) on {text!r}.')
    if not self._chunks:
      return np.zeros(0, np.int16)
    return np.concatenate(self._chunks).astype(np.int16)
