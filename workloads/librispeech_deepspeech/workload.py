"""librispeech_deepspeech: AlgoPerf's DeepSpeech 2 on LibriSpeech (model side).

As AlgoPerf's (whose DeepSpeech workload subclasses its Conformer one), the
batch format, loss, decoding, word error rate, split sizes and batch sizes
are librispeech_conformer's; only the model and its variants differ.
"""

from algoperf import base_workload
from workloads.librispeech_conformer import workload as conformer_workload
from workloads.librispeech_deepspeech import model

_DATA = 'workloads.librispeech_deepspeech.dataset'


class LibriSpeechDeepSpeechWorkload(
    conformer_workload.LibriSpeechConformerWorkload):
  """6 bidirectional LSTM layers of 2 x 256, 3 feed-forward layers of 512:
  18,381,312 parameters."""

  name = 'librispeech_deepspeech'
  dataset_builder = base_workload.DataSide(_DATA, 'BUILDER')
  load_detokenizer = base_workload.DataSide(_DATA, 'load_detokenizer')

  # Model settings; each variant overrides some, as AlgoPerf's do.
  model_class = model.Deepspeech
  model_settings = ('use_tanh', 'residual', 'decoder_layer_norm',
                    'layernorm_everywhere', 'freq_mask_count',
                    'time_mask_count')
  use_tanh = False
  residual = True
  decoder_layer_norm = True
  layernorm_everywhere = False
  freq_mask_count = 2
  time_mask_count = 10

  def _bn_kwargs(self, use_running_average_bn):
    """DeepSpeech's BatchNorm has no running-average switch: AlgoPerf's
    model_fn accepts the argument and ignores it, as we do."""
    del use_running_average_bn
    return {}


class LibriSpeechDeepSpeechTanhWorkload(LibriSpeechDeepSpeechWorkload):
  """tanh instead of ReLU in the subsampling and feed-forward layers."""

  name = 'librispeech_deepspeech_tanh'
  use_tanh = True


class LibriSpeechDeepSpeechNoResNetWorkload(LibriSpeechDeepSpeechWorkload):
  """No residual connections around the LSTM and feed-forward layers."""

  name = 'librispeech_deepspeech_no_resnet'
  residual = False


class LibriSpeechDeepSpeechNormAndSpecAugWorkload(
    LibriSpeechDeepSpeechWorkload):
  """LayerNorm for every BatchNorm, no final LayerNorm, stronger SpecAugment
  (4 frequency and 15 time masks), eval batch 128: AlgoPerf's variant."""

  name = 'librispeech_deepspeech_norm_and_spec_aug'
  eval_batch_size = 128
  decoder_layer_norm = False
  layernorm_everywhere = True
  freq_mask_count = 4
  time_mask_count = 15


