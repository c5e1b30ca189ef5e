"""AlgoPerf's LibriSpeech log-mel front end, run inside the model.

From int16-scale 16 kHz samples (and their 0/1 paddings) to normalised
80-bin log-mel frames (and frame paddings), as AlgoPerf's
``MelFilterbankFrontend`` computes them at 2c90454:

- samples zeroed where padded, scaled by 2^-15;
- 401-sample frames every 160 samples (25 ms + one sample that the
  pre-emphasis consumes; 10 ms hop), no end padding, so 320,000 samples
  give 1,998 frames; a frame is padding only if all its samples are;
- HTK-style pre-emphasis (0.97) down to 400 samples, a periodic Hann
  window, the power of a 512-point real FFT;
- an 80-band triangular mel filterbank over 125-7600 Hz (HTK mel scale,
  the DC bin excluded), log with floor 1e-5;
- each bin normalised by fixed LibriSpeech statistics (below).

It has no parameters. Written from AlgoPerf's description, not copied.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np

SAMPLE_RATE = 16_000
FRAME_SIZE = 401  # 25 ms at 16 kHz, +1 sample for the pre-emphasis.
FRAME_STEP = 160  # 10 ms.
FFT_SIZE = 512  # Next power of two above the 400-sample window.
PREEMPHASIS = 0.97
NUM_MEL_BINS = 80
LOWER_HZ = 125.0
UPPER_HZ = 7600.0
LOG_FLOOR = 1e-5
INPUT_SCALE = 2.0**-15  # The samples arrive at int16 scale.

# AlgoPerf's per-bin log-mel mean and standard deviation over LibriSpeech
# (librispeech_preprocessor.LIBRISPEECH_MEAN_VECTOR / _STD_VECTOR at
# 2c90454): data, not code, so the numbers are AlgoPerf's exactly.
MEL_MEAN = np.array([
  -7.604781627655029, -7.120622634887695, -6.886424541473389,
  -6.870576858520508, -6.966772079467773, -7.108409404754639,
  -6.952802658081055, -6.783994197845459, -6.619552135467529,
  -6.487626552581787, -6.4120659828186035, -6.394047737121582,
  -6.424487113952637, -6.399371147155762, -6.515827178955078,
  -6.713799953460693, -6.847687721252441, -6.988500118255615,
  -6.922138690948486, -7.146148681640625, -7.204040050506592,
  -7.053755283355713, -7.314038276672363, -7.1223249435424805,
  -7.30251407623291, -7.121214389801025, -7.242573261260986,
  -7.173053741455078, -7.0979413986206055, -7.088747501373291,
  -6.984991073608398, -6.878773212432861, -6.760275363922119,
  -6.630094528198242, -6.5145769119262695, -6.424505710601807,
  -6.356513500213623, -6.31787633895874, -6.266077041625977,
  -6.246832847595215, -6.2821526527404785, -6.190838813781738,
  -6.2484354972839355, -6.147264003753662, -6.092472553253174,
  -6.0171003341674805, -5.925040245056152, -5.853583335876465,
  -5.820910930633545, -5.811892986297607, -5.80783748626709,
  -5.771462917327881, -5.745373249053955, -5.770565509796143,
  -5.776564121246338, -5.783167362213135, -5.795408725738525,
  -5.799482345581055, -5.802347660064697, -5.804711818695068,
  -5.8168182373046875, -5.884479999542236, -5.972710609436035,
  -6.044466018676758, -6.128486633300781, -6.2257585525512695,
  -6.315749645233154, -6.39061164855957, -6.492859840393066,
  -6.5498456954956055, -6.605432033538818, -6.6508378982543945,
  -6.66917610168457, -6.672688961029053, -6.684234619140625,
  -6.697457790374756, -6.75471830368042, -6.794914245605469,
  -6.8634209632873535, -6.94186544418335,
], np.float32)

MEL_STDDEV = np.array([
  3.435328245162964, 3.5962932109832764, 3.701247215270996,
  3.7369205951690674, 3.7535104751586914, 3.693629264831543,
  3.6922497749328613, 3.7641522884368896, 3.8419716358184814,
  3.899984836578369, 3.9294240474700928, 3.9317409992218018,
  3.9139585494995117, 3.9031598567962646, 3.8691999912261963,
  3.8155081272125244, 3.7644970417022705, 3.7099106311798096,
  3.6965086460113525, 3.600376605987549, 3.5493226051330566,
  3.5465121269226074, 3.45003604888916, 3.4712812900543213,
  3.408461093902588, 3.4408135414123535, 3.4104881286621094,
  3.4217638969421387, 3.4312851428985596, 3.4199209213256836,
  3.4305806159973145, 3.4382665157318115, 3.4580366611480713,
  3.4817991256713867, 3.495871067047119, 3.5036792755126953,
  3.5047574043273926, 3.498873472213745, 3.493056058883667,
  3.4822943210601807, 3.459430456161499, 3.4612770080566406,
  3.455906391143799, 3.4755423069000244, 3.497154951095581,
  3.532655715942383, 3.5705199241638184, 3.592031240463257,
  3.596907377243042, 3.5913500785827637, 3.5865931510925293,
  3.5826809406280518, 3.5837743282318115, 3.5895791053771973,
  3.5819313526153564, 3.583786964416504, 3.586118459701538,
  3.588958978652954, 3.592214822769165, 3.5939455032348633,
  3.585663080215454, 3.588411331176758, 3.592102289199829,
  3.5870490074157715, 3.5806570053100586, 3.5731067657470703,
  3.561753273010254, 3.54980731010437, 3.5527374744415283,
  3.547536611557007, 3.538784980773926, 3.525617837905884,
  3.503183603286743, 3.4922726154327393, 3.487964630126953,
  3.4725594520568848, 3.455838918685913, 3.435182809829712,
  3.428429365158081, 3.429917097091675,
], np.float32)

def num_frames(num_samples: int) -> int:
  """Frames made of ``num_samples`` samples (1,998 of 320,000)."""
  return (num_samples - FRAME_SIZE) // FRAME_STEP + 1


def _hz_to_mel(hz):
  return 1127.0 * np.log1p(np.asarray(hz, np.float64) / 700.0)


@functools.cache
def mel_matrix() -> np.ndarray:
  """float32 [FFT_SIZE // 2 + 1, NUM_MEL_BINS]: triangles in the mel domain.

  As TensorFlow's ``linear_to_mel_weight_matrix``: the spectrogram's bins
  spread evenly over 0..Nyquist, the DC bin's row left at zero.
  """
  num_bins = FFT_SIZE // 2 + 1
  bin_hz = np.linspace(0.0, SAMPLE_RATE / 2, num_bins)[1:]
  bin_mel = _hz_to_mel(bin_hz)[:, None]
  edges = np.linspace(_hz_to_mel(LOWER_HZ), _hz_to_mel(UPPER_HZ),
                      NUM_MEL_BINS + 2)
  lower, center, upper = edges[:-2], edges[1:-1], edges[2:]
  rising = (bin_mel - lower) / (center - lower)
  falling = (upper - bin_mel) / (upper - center)
  weights = np.maximum(0.0, np.minimum(rising, falling))
  return np.pad(weights, ((1, 0), (0, 0))).astype(np.float32)


def _frames(x_BN, size: int):
  """[B, num_frames, size] windows of ``x_BN`` every FRAME_STEP samples."""
  count = (x_BN.shape[1] - size) // FRAME_STEP + 1
  starts = np.arange(count) * FRAME_STEP
  return x_BN[:, starts[:, None] + np.arange(size)[None, :]]


def frame_paddings(paddings_BN):
  """1.0 where every sample of the frame is padding (AlgoPerf's min-pool)."""
  return jax.lax.reduce_window(paddings_BN, 1.0, jax.lax.min,
                               (1, FRAME_SIZE), (1, FRAME_STEP), 'VALID')


def log_mel(audio_BN, paddings_BN):
  """(normalised log-mels [B, F, 80], frame paddings [B, F]) of raw audio."""
  audio_BN = audio_BN.astype(jnp.float32) * (1.0 - paddings_BN) * INPUT_SCALE
  frames_BFS = _frames(audio_BN, FRAME_SIZE)
  # HTK pre-emphasis: the first sample scaled by (1 - a), then x[t] -
  # a * x[t-1]; the frame's last sample only feeds the difference before it.
  emphasised_BFW = jnp.concatenate(
    [frames_BFS[..., :1] * (1.0 - PREEMPHASIS),
     frames_BFS[..., 1:-1] - PREEMPHASIS * frames_BFS[..., :-2]], axis=-1)
  window = FRAME_SIZE - 1
  # Periodic Hann window (TensorFlow's default for even lengths).
  hann_W = np.hanning(window + 1)[:-1].astype(np.float32)
  power_BFK = jnp.abs(jnp.fft.rfft(emphasised_BFW * hann_W, FFT_SIZE,
                                   axis=-1)) ** 2
  mels_BFM = jnp.einsum('bfk,km->bfm', power_BFK, mel_matrix())
  logs_BFM = jnp.log(jnp.maximum(mels_BFM, LOG_FLOOR))
  return (logs_BFM - MEL_MEAN) / MEL_STDDEV, frame_paddings(paddings_BN)
