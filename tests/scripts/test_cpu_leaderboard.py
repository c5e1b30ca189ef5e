"""The CPU leaderboard's held-out rule (scripts/reference_leaderboard)."""

import pytest

from scripts.reference_leaderboard import held_out
from scripts.reference_leaderboard.held_out import RUN
from scripts.reference_leaderboard.held_out import SKIP
from scripts.reference_leaderboard.held_out import WAIT


@pytest.mark.parametrize('reached, study, n, action', [
  ({0: True}, 0, 1, RUN),
  ({0: False}, 0, 1, SKIP),
  ({}, 0, 1, WAIT),
  # Base missed in study 0 only: its median over 3 may still be finite.
  ({0: False}, 0, 3, WAIT),
  ({0: False, 1: True}, 0, 3, WAIT),
  ({0: False, 1: True, 2: True}, 0, 3, RUN),  # median finite: needed.
  ({0: False, 1: False}, 0, 3, SKIP),  # 2 of 3 missed: median infinite.
  ({0: False, 1: False}, 2, 3, SKIP),
  ({0: True, 1: False}, 0, 3, RUN),
  ({0: False, 1: True}, 1, 2, SKIP),  # 1 of 2: the median averages inf.
])
def test_held_out_trial_is_skipped_only_when_the_base_median_is_infinite(
    reached, study, n, action):
  assert held_out.decide(reached, study, n).action == action


def test_every_cpu_suite_family_has_a_registered_held_out_variant():
  from workloads import registry

  assert list(held_out.HELD_OUT) == list(registry.CPU_SUITE)
  for base, variant in held_out.HELD_OUT.items():
    assert registry.get_workload_class(variant).base_name == base
