"""imagenet_vit reads imagenet_resnet's prepared ImageNet (one copy on disk).

AlgoPerf's ViT workload at 2c90454 uses the ResNet workload's input
pipeline unchanged (no mixup, no RandAugment by default).
"""

from workloads.imagenet_resnet.dataset import BUILDER  # noqa: F401
from workloads.imagenet_resnet.dataset import DATASET  # noqa: F401
from workloads.imagenet_resnet.dataset import decode_batch  # noqa: F401
