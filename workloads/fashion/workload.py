"""fashion_mlp, fashion_resnet, fashion_vit: the digit families on
Fashion-MNIST (workloads/fashion/README.md).

The model, loss, metrics, input pipeline and variants are those of mnist,
digits_resnet and digits_vit, unchanged; only the data side differs
(``FashionData``): 70,000 Fashion-MNIST images from a pinned Debian
package, with validation and test splits large enough to resolve each
family's target (issue 18). Each variant is its digit variant's model
settings on its Fashion base (``variant``), so a digit variant and its
Fashion twin cannot drift apart.
"""

from workloads.digits_resnet import workload as resnet_workload
from workloads.digits_vit import workload as vit_workload
from workloads.fashion import dataset
from workloads.mnist import workload as mnist_workload


class FashionData:
  """The Fashion-MNIST data side; listed first among a workload's bases.

  Each family evaluates the first ``num_validation_examples`` /
  ``num_test_examples`` of the stored 20,000-image splits: enough that
  the standard error of accuracy at its target is at most 0.25%
  (p(1-p) / 0.0025^2 examples at accuracy p; the README has the
  measurements).
  """

  dataset_builder = dataset.FashionMnistDeb
  num_train_examples = dataset.SPLIT_SIZES['train']
  # eval_train is reported, never a target: a small share of the eval cost.
  num_eval_train_examples = 2000
  num_validation_examples = dataset.SPLIT_SIZES['validation']
  num_test_examples = dataset.SPLIT_SIZES['test']
  eval_batch_size = 1000
  # Pixel statistics of the 30,000 prepared training images (uint8 / 255).
  train_mean = 0.2868
  train_stddev = 0.3533


def variant(fashion_base: type, digit_variant: type, name: str) -> type:
  """``fashion_base`` with ``digit_variant``'s own model settings.

  The settings are copied into the new class's namespace (a variant
  states what it changes; tests/contract checks that against its model).
  The class is named after ``name`` ('fashion_mlp_relu':
  FashionMlpReluWorkload), as its module-level name must be.
  """
  settings = {k: v for k, v in vars(digit_variant).items()
              if not k.startswith('_') and k != 'name'}
  class_name = ''.join(w.capitalize() for w in name.split('_')) + 'Workload'
  return type(class_name, (fashion_base,),
              {'name': name, '__module__': __name__,
               '__doc__': f'{digit_variant.__doc__} (On Fashion-MNIST.)',
               **settings})


class FashionMlpWorkload(FashionData, mnist_workload.MnistWorkload):
  """mnist's MLP (2 x 128, sigmoid) on Fashion-MNIST."""

  name = 'fashion_mlp'


class FashionResNetWorkload(FashionData, resnet_workload.DigitsResNetWorkload):
  """digits_resnet's ResNet (widths 16/32/64, BatchNorm) on Fashion-MNIST."""

  name = 'fashion_resnet'
  # Its test target (0.903) needs 0.903 x 0.097 / 0.0025^2 = 14,015
  # examples per split; all 20,000 would cost a third more per eval.
  num_validation_examples = 15000
  num_test_examples = 15000


class FashionViTWorkload(FashionData, vit_workload.DigitsViTWorkload):
  """digits_vit's ViT (patch 7, 1-pixel shifts) on Fashion-MNIST."""

  name = 'fashion_vit'


FashionMlpReluWorkload = variant(
  FashionMlpWorkload, mnist_workload.MnistReluWorkload, 'fashion_mlp_relu')
FashionMlpDeepWorkload = variant(
  FashionMlpWorkload, mnist_workload.MnistDeepWorkload, 'fashion_mlp_deep')
FashionResnetSiluWorkload = variant(
  FashionResNetWorkload, resnet_workload.DigitsResNetSiluWorkload,
  'fashion_resnet_silu')
FashionResnetLargeBnInitWorkload = variant(
  FashionResNetWorkload, resnet_workload.DigitsResNetLargeBNInitWorkload,
  'fashion_resnet_large_bn_init')
FashionVitGluWorkload = variant(
  FashionViTWorkload, vit_workload.DigitsViTGluWorkload, 'fashion_vit_glu')
FashionVitPostLnWorkload = variant(
  FashionViTWorkload, vit_workload.DigitsViTPostLNWorkload,
  'fashion_vit_post_ln')
