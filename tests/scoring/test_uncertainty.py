"""Bootstrap intervals over studies and per-study scores
(scoring/uncertainty.py)."""

import math

import pytest

from scoring import uncertainty
from scoring.time_to_target import StudyResult
from scoring.time_to_target import WorkloadTime
from scoring.workload_targets import TargetsConfig
from scoring.workload_targets import WorkloadTarget

INF = math.inf
TARGETS = TargetsConfig(
  benchmark_version='test', base_workloads=('w',), held_out_workloads=(),
  workloads={'w': WorkloadTarget('w', 'accuracy', 'max', 0.9)})


def _times(by_submission: dict) -> dict:
  return {s: {'w': WorkloadTime(s, 'w', math.nan, tuple(
            StudyResult(f'study_{i}', t, None, None)
            for i, t in enumerate(studies)))}
          for s, studies in by_submission.items()}


def _measure(by_submission, **kwargs):
  return uncertainty.measure(_times(by_submission), TARGETS, False, 4.0, 100,
                             **kwargs)


def test_a_miss_in_one_study_of_three_shows_in_interval_and_per_study():
  # Medians: a 10 s, b 20 s, so a scores 1 and b 2/3 (ratio 2 on [1, 4]).
  # a's third study missed: a resample draws two or three misses with
  # probability 7/27, then a scores 0 and b scores 1.
  spread = _measure({'a': [10, 10, INF], 'b': [20, 20, 20]})
  assert spread.interval['a'] == (0.0, 1.0)
  assert spread.interval['b'] == pytest.approx((2 / 3, 1.0), abs=1e-2)
  assert spread.studies == ('study_0', 'study_1', 'study_2')
  assert spread.per_study['a'] == pytest.approx(
    {'study_0': 1.0, 'study_1': 1.0, 'study_2': 0.0})
  assert spread.per_study['b'] == pytest.approx(
    {'study_0': 2 / 3, 'study_1': 2 / 3, 'study_2': 1.0}, abs=1e-2)
  assert spread.spread('a') == (0.0, 1.0)


def test_identical_studies_give_an_interval_of_one_point():
  spread = _measure({'a': [10, 10, 10], 'b': [20, 20, 20]})
  assert spread.interval['a'] == (1.0, 1.0)
  assert spread.interval['b'][0] == spread.interval['b'][1]
  assert set(spread.per_study['a'].values()) == {1.0}


def test_the_same_logs_and_seed_give_the_same_interval():
  runs = {'a': [10, 14, 30], 'b': [12, 25, 11]}
  assert _measure(runs) == _measure(runs)
  assert _measure(runs, resamples=50, seed=3).resamples == 50


def test_a_missing_study_counts_as_not_logged_in_it():
  spread = uncertainty.measure(
    {'a': _times({'a': [10, 10, 10]})['a'],
     'b': _times({'b': [20, 20]})['b']}, TARGETS, False, 4.0, 100)
  assert spread.per_study['a']['study_2'] == 1.0
  assert spread.per_study['b']['study_2'] == 0.0
