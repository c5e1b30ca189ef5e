"""AlgoPerf's global batch sizes, as its baselines return them."""

# Global batch size per AlgoPerf workload name (the baselines' table).
ALGOPERF_BATCH_SIZES = {
  'criteo1tb': 262_144,
  'fastmri': 32,
  'imagenet_resnet': 1024,
  'imagenet_resnet_silu': 512,
  'imagenet_resnet_gelu': 512,
  'imagenet_vit': 1024,
  'librispeech_conformer': 256,
  'librispeech_deepspeech': 256,
  'ogbg': 512,
  'wmt': 128,
  'mnist': 16,
}


def get_batch_size(workload_name: str) -> int:
  """AlgoPerf's batch size for ``workload_name``.

  Raises:
    ValueError: a name AlgoPerf's baselines do not know. The harness then
      retries with the base workload's name and finally uses the workload's
      ``default_batch_size`` (docs/design.md §3).
  """
  try:
    return ALGOPERF_BATCH_SIZES[workload_name]
  except KeyError:
    raise ValueError(
      f'Unsupported workload name: {workload_name}. The reference '
      f'submissions know {", ".join(sorted(ALGOPERF_BATCH_SIZES))}.'
    ) from None
