"""librispeech_deepspeech reads librispeech_conformer's prepared LibriSpeech.

AlgoPerf's DeepSpeech workload at 2c90454 subclasses the Conformer one and
keeps its data and input pipeline (one copy on disk).
"""

from workloads.librispeech_conformer.dataset import BUILDER  # noqa: F401
from workloads.librispeech_conformer.dataset import DATASET  # noqa: F401
from workloads.librispeech_conformer.dataset import decode_batch  # noqa: F401
from workloads.librispeech_conformer.dataset import load_detokenizer  # noqa: F401
