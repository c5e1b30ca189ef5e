"""Log-mel filterbank features, as AlgoPerf's LibriSpeech front end makes.

25 ms Hann windows every 10 ms, power spectrum, a triangular mel
filterbank (HTK mel scale) and a floored natural log. The audio is eSpeak's
22.05 kHz, so the window and hop are 551 and 220 samples and the FFT is
1024 points (zero-padded). Computed once, when the data is prepared: the
CPU suite cannot afford AlgoPerf's in-model front end on every step.
"""

import functools

import numpy as np

SAMPLE_RATE = 22050
WINDOW = 551  # 25 ms.
HOP = 220  # 10 ms.
FFT_SIZE = 1024
NUM_MEL_BINS = 32
LOWER_HZ = 60.0
UPPER_HZ = 7600.0  # AlgoPerf's 125-7600 Hz band, widened below for pitch.
LOG_FLOOR = 1e-5


def hz_to_mel(hz):
  return 1127.0 * np.log1p(np.asarray(hz) / 700.0)


def mel_to_hz(mel):
  return 700.0 * np.expm1(np.asarray(mel) / 1127.0)


@functools.cache
def mel_matrix() -> np.ndarray:
  """float32 [FFT_SIZE // 2 + 1, NUM_MEL_BINS] triangular filters."""
  bin_hz = np.arange(FFT_SIZE // 2 + 1) * SAMPLE_RATE / FFT_SIZE
  edges = mel_to_hz(np.linspace(hz_to_mel(LOWER_HZ), hz_to_mel(UPPER_HZ),
                                NUM_MEL_BINS + 2))
  lower, center, upper = edges[:-2], edges[1:-1], edges[2:]
  rising = (bin_hz[:, None] - lower) / (center - lower)
  falling = (upper - bin_hz[:, None]) / (upper - center)
  return np.maximum(0.0, np.minimum(rising, falling)).astype(np.float32)


def num_frames(num_samples: int) -> int:
  """Frames of a signal: one per hop whose window fits (at least one)."""
  return max(1, 1 + (num_samples - WINDOW) // HOP)


def log_mel(samples: np.ndarray) -> np.ndarray:
  """float32 [num_frames, NUM_MEL_BINS] of int16 (or float) samples."""
  audio = samples.astype(np.float32) / 32768.0
  audio = np.pad(audio, (0, max(0, WINDOW - len(audio))))
  frames = np.lib.stride_tricks.sliding_window_view(audio, WINDOW)[::HOP]
  frames = frames[:num_frames(len(samples))] * np.hanning(WINDOW)
  power = np.abs(np.fft.rfft(frames, n=FFT_SIZE)) ** 2
  return np.log(np.maximum(power @ mel_matrix(), LOG_FLOOR)).astype(
    np.float32)
