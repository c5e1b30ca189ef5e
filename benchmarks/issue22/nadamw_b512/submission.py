"""reference_algorithms/nadamw at a global batch of 512 on every workload
(issue 22's ghost BN experiment; not a reference algorithm)."""

from reference_algorithms.nadamw.submission import *  # noqa: F403


def get_batch_size(workload_name: str) -> int:
  del workload_name
  return 512
