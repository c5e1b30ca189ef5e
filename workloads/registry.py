"""Every workload by name, as an import string; importing this is cheap.

A workload id is the same string as its registry key and log directory
prefix (``<id>_jax``). Adding a workload touches this dict only.
"""

import difflib
import importlib

from algoperf.errors import WorkloadError

WORKLOADS = {
  # mnist (AlgoPerf's own name and model).
  'mnist': 'workloads.mnist.workload:MnistWorkload',
  'mnist_relu': 'workloads.mnist.workload:MnistReluWorkload',
  'mnist_deep': 'workloads.mnist.workload:MnistDeepWorkload',
  # digits_resnet family (mirrors imagenet_resnet).
  'digits_resnet': 'workloads.digits_resnet.workload:DigitsResNetWorkload',
  'digits_resnet_silu':
    'workloads.digits_resnet.workload:DigitsResNetSiluWorkload',
  'digits_resnet_large_bn_init':
    'workloads.digits_resnet.workload:DigitsResNetLargeBNInitWorkload',
  # digits_vit family (mirrors imagenet_vit).
  'digits_vit': 'workloads.digits_vit.workload:DigitsViTWorkload',
  'digits_vit_glu': 'workloads.digits_vit.workload:DigitsViTGluWorkload',
  'digits_vit_post_ln':
    'workloads.digits_vit.workload:DigitsViTPostLNWorkload',
  # shakespeare_lm family (mirrors wmt / lm).
  'shakespeare_lm': 'workloads.shakespeare_lm.workload:ShakespeareLmWorkload',
  'shakespeare_lm_post_ln':
    'workloads.shakespeare_lm.workload:ShakespeareLmPostLnWorkload',
  'shakespeare_lm_attention_temp':
    'workloads.shakespeare_lm.workload:ShakespeareLmAttentionTempWorkload',
  'shakespeare_lm_glu_tanh':
    'workloads.shakespeare_lm.workload:ShakespeareLmGluTanhWorkload',
  # molecules_gnn family (mirrors ogbg).
  'molecules_gnn': 'workloads.molecules_gnn.workload:MoleculesGnnWorkload',
  'molecules_gnn_gelu':
    'workloads.molecules_gnn.workload:MoleculesGnnGeluWorkload',
  'molecules_gnn_silu':
    'workloads.molecules_gnn.workload:MoleculesGnnSiluWorkload',
  'molecules_gnn_model_size':
    'workloads.molecules_gnn.workload:MoleculesGnnModelSizeWorkload',
  # census_dlrm family (mirrors criteo1tb).
  'census_dlrm': 'workloads.census_dlrm.workload:CensusDlrmWorkload',
  'census_dlrm_embed_init':
    'workloads.census_dlrm.workload:CensusDlrmEmbedInitWorkload',
  'census_dlrm_layernorm':
    'workloads.census_dlrm.workload:CensusDlrmLayerNormWorkload',
  # phantom_unet family (mirrors fastmri).
  'phantom_unet': 'workloads.phantom_unet.workload:PhantomUnetWorkload',
  'phantom_unet_tanh':
    'workloads.phantom_unet.workload:PhantomUnetTanhWorkload',
  'phantom_unet_layernorm':
    'workloads.phantom_unet.workload:PhantomUnetLayerNormWorkload',
  'phantom_unet_model_size':
    'workloads.phantom_unet.workload:PhantomUnetModelSizeWorkload',
}

# Version of the CPU suite's workload definitions (targets, budgets, data).
# Recorded in every trial's metadata; scoring refuses to mix versions.
BENCHMARK_VERSION = 'cpu-0.3'

# The CPU suite's base workloads, in the order runs and tables show them.
CPU_SUITE = (
  'mnist',
  'digits_resnet',
  'digits_vit',
  'shakespeare_lm',
  'molecules_gnn',
  'census_dlrm',
  'phantom_unet',
)


def names() -> list[str]:
  return list(WORKLOADS)


def get_workload_class(name: str):
  """Imports and returns the workload class registered under ``name``.

  Raises:
    WorkloadError: unknown name; lists the valid ones and the closest match.
  """
  if name not in WORKLOADS:
    close = difflib.get_close_matches(name, WORKLOADS, n=1)
    hint = f' Did you mean {close[0]!r}?' if close else ''
    raise WorkloadError(
      f'Unknown workload {name!r}.{hint} Valid names: '
      f'{", ".join(sorted(WORKLOADS))}. `algoperf workloads` lists them.'
    )
  module_name, class_name = WORKLOADS[name].split(':')
  return getattr(importlib.import_module(module_name), class_name)


def make_workload(name: str):
  return get_workload_class(name)()
