"""AlgoPerf's scoring rules on tiny synthetic experiment directories."""

import math
import os

import numpy as np
import pytest

from scoring import pipeline
from scoring import profiles
from scoring import time_to_target
from scoring.workload_targets import WorkloadTarget
from tests.scoring import synthetic


def _score(tmp_path, **options):
  targets = synthetic.write_targets(tmp_path)
  return pipeline.score_experiments(
    str(tmp_path / 'exp'), pipeline.ScoreOptions(targets=targets, **options))


def _expected_score(ratios, n_base=2):
  taus = np.linspace(1.0, 4.0, 100)
  rho = [sum(r <= t for r in ratios) / n_base for t in taus]
  trapezoid = getattr(np, 'trapezoid', None) or np.trapz
  return trapezoid(rho, taus) / 3.0


def test_first_eval_meeting_target_counts_equality_and_never_nan():
  maximize = WorkloadTarget('a', 'accuracy', 'max', 0.9)
  minimize = WorkloadTarget('b', 'loss', 'min', 0.5)
  assert time_to_target.first_reaching_index([0.1, 0.9, 0.95], maximize) == 1
  assert time_to_target.first_reaching_index([0.6, 0.5, 0.4], minimize) == 1
  assert time_to_target.first_reaching_index([math.nan] * 3, minimize) is None
  assert time_to_target.first_reaching_index([0.89], maximize) is None


def test_fastest_everywhere_scores_one_and_twice_as_slow_scores_less(
    tmp_path):
  exp = tmp_path / 'exp'
  reach = {'alpha': 1, 'beta': 1, 'alpha_tweak': 1}
  synthetic.write_submission(exp, 'fast', reach, step=10.0)
  synthetic.write_submission(exp, 'slow', reach, step=20.0)
  result = _score(tmp_path)
  assert result.profile.scores['fast'] == pytest.approx(1.0, abs=1e-12)
  assert result.profile.scores['slow'] == pytest.approx(
    _expected_score([2.0, 2.0]), abs=1e-12)
  assert result.times['slow']['alpha'] == 40.0


def test_study_keeps_trial_with_earliest_eval_index_not_earliest_time(
    tmp_path):
  exp = tmp_path / 'exp'
  # trial_1 meets the target at eval 2 (t=30), trial_2 at eval 1 (t=100).
  synthetic.write_trial(exp, 's', 0, 'alpha', 1, [0.1, 0.1, 0.95],
                        [10, 20, 30])
  synthetic.write_trial(exp, 's', 0, 'alpha', 2, [0.1, 0.95], [50, 100])
  result = _score(tmp_path)
  assert result.times['s']['alpha'] == 100.0


def _first_listed_time(workload_dir, times):
  """The time of the trial ``os.listdir`` lists first (AlgoPerf's pick)."""
  listed = [n for n in os.listdir(workload_dir) if n.startswith('trial_')]
  return times[listed[0]]


@pytest.mark.parametrize('tie_break', ['last-trial', 'fastest', 'listing',
                                       None])
def test_tie_on_eval_index(tmp_path, tie_break):
  exp = tmp_path / 'exp'
  synthetic.write_trial(exp, 's', 0, 'alpha', 1, [0.1, 0.95], [10, 20])
  synthetic.write_trial(exp, 's', 0, 'alpha', 2, [0.1, 0.95], [10, 40])
  official = _first_listed_time(exp / 's' / 'study_0' / 'alpha_jax',
                                {'trial_1': 20.0, 'trial_2': 40.0})
  expected = {'last-trial': 40.0, 'fastest': 20.0, 'listing': official,
              None: official}[tie_break]  # None: the default.
  options = {'tie_break': tie_break} if tie_break else {}
  assert _score(tmp_path, **options).times['s']['alpha'] == expected


def test_tie_break_of_merged_reruns_follows_the_parent_listing(tmp_path):
  exp = tmp_path / 'exp'
  rerun = 's-2024-01-02-03-04-05'
  synthetic.write_trial(exp, 's', 0, 'alpha', 1, [0.1, 0.95], [10, 20])
  synthetic.write_trial(exp, rerun, 0, 'alpha', 1, [0.1, 0.95], [10, 40])
  listed = [n for n in os.listdir(exp) if n.startswith('s')]
  expected = 20.0 if listed[0] == 's' else 40.0
  result = _score(tmp_path)
  assert list(result.times) == ['s']
  assert result.times['s']['alpha'] == expected


def test_median_over_studies_with_misses_infinite(tmp_path):
  exp = tmp_path / 'exp'
  for study, reach in enumerate([1, None, 3]):
    synthetic.write_trial(exp, 'a', study, 'alpha', 1,
                          synthetic.reaching_curve('alpha', reach))
  for study, reach in enumerate([1, None, None]):
    synthetic.write_trial(exp, 'b', study, 'alpha', 1,
                          synthetic.reaching_curve('alpha', reach))
  for study, reach in enumerate([0, 1, 2, 3]):
    synthetic.write_trial(exp, 'c', study, 'alpha', 1,
                          synthetic.reaching_curve('alpha', reach))
  times = _score(tmp_path).times
  assert times['a']['alpha'] == 40.0  # median of 20, 40, inf
  assert times['b']['alpha'] == math.inf
  assert times['c']['alpha'] == 25.0  # even count: mean of 20 and 30


def test_entries_over_four_times_the_best_do_not_count(tmp_path):
  exp = tmp_path / 'exp'
  synthetic.write_submission(exp, 'fast', {'alpha': 0, 'beta': 0,
                                           'alpha_tweak': 0}, step=10.0)
  synthetic.write_submission(exp, 'slow', {'alpha': 0, 'beta': 0,
                                           'alpha_tweak': 0}, step=45.0)
  result = _score(tmp_path)
  assert result.profile.status['slow']['alpha'] == profiles.OVER_CUT
  assert result.profile.scores['slow'] == 0.0
  assert result.times['slow']['alpha'] == 45.0  # the raw time is kept.


def test_held_out_miss_disqualifies_base_under_v05_only(tmp_path):
  exp = tmp_path / 'exp'
  synthetic.write_submission(exp, 'a', {'alpha': 1, 'beta': 1,
                                        'alpha_tweak': 1})
  synthetic.write_submission(exp, 'b', {'alpha': 1, 'beta': 1,
                                        'alpha_tweak': None})
  v05 = _score(tmp_path)
  assert v05.rules == 'v0.5'
  assert v05.profile.status['b']['alpha'] == profiles.HELD_OUT
  assert v05.profile.scores['b'] == pytest.approx(
    _expected_score([math.inf, 1.0]), abs=1e-12)
  v06 = _score(tmp_path, rules='v0.6')
  assert v06.profile.scores['b'] == pytest.approx(1.0, abs=1e-12)


def test_held_out_cut_uses_best_among_submissions_that_trained_the_base(
    tmp_path):
  exp = tmp_path / 'exp'
  # 'a' misses the base but is fast on the variant: its variant time is
  # set to inf first, so it does not push 'b' over the 4x cut.
  synthetic.write_submission(exp, 'a', {'alpha': None, 'beta': 1,
                                        'alpha_tweak': 0}, step=1.0)
  synthetic.write_submission(exp, 'b', {'alpha': 1, 'beta': 1,
                                        'alpha_tweak': 1}, step=10.0)
  result = _score(tmp_path)
  assert result.profile.status['b']['alpha'] == profiles.OK


def test_rho_divides_by_number_of_base_workloads(tmp_path):
  exp = tmp_path / 'exp'
  synthetic.write_submission(exp, 'only_alpha', {'alpha': 1,
                                                 'alpha_tweak': 1})
  result = _score(tmp_path)
  assert max(result.profile.rho['only_alpha']) == 0.5
  assert result.profile.status['only_alpha']['beta'] == profiles.NO_LOGS


def test_score_by_global_step(tmp_path):
  exp = tmp_path / 'exp'
  synthetic.write_submission(exp, 's', {'alpha': 2, 'beta': 1,
                                        'alpha_tweak': 1})
  result = _score(tmp_path, time_col='global_step')
  assert result.times['s']['alpha'] == 300.0
  assert result.times['s']['beta'] == 200.0


def test_speedup_counts_only_workloads_both_reached(tmp_path):
  exp = tmp_path / 'exp'
  synthetic.write_submission(exp, 'baseline', {'alpha': 1, 'beta': 1,
                                               'alpha_tweak': 1})
  synthetic.write_submission(exp, 'other', {'alpha': 1, 'beta': None,
                                            'alpha_tweak': 1}, step=5.0)
  result = _score(tmp_path)
  (row,) = result.speedups
  assert row.reference == 'baseline'
  assert row.per_workload == {'alpha': 0.5}  # beta: other missed it.
  assert row.left_out == {'beta': 'missed by other'}
  assert row.speedup == 2.0 and row.why_not == ''


def test_no_speedup_between_submissions_that_missed_every_target(tmp_path):
  exp = tmp_path / 'exp'
  synthetic.write_submission(exp, 'a', {'alpha': None, 'beta': None,
                                        'alpha_tweak': None})
  synthetic.write_submission(exp, 'b', {'alpha': None, 'beta': None,
                                        'alpha_tweak': None}, step=5.0)
  result = _score(tmp_path)
  (row,) = result.speedups
  assert math.isnan(row.speedup) and row.per_workload == {}
  assert row.why_not == ('no base workload where both reached the target '
                         '(missed by both on 2)')
  # AlgoPerf's own ratio calls two misses equal: kept apart, never shown.
  assert row.algoperf_runtime_ratio == 1.0


def test_algoperf_ratio_replaces_misses_with_budget_plus_one(tmp_path):
  exp = tmp_path / 'exp'
  synthetic.write_submission(exp, 'baseline', {'alpha': 1, 'beta': 1,
                                               'alpha_tweak': 1})
  synthetic.write_submission(exp, 'other', {'alpha': 1, 'beta': None,
                                            'alpha_tweak': 1}, step=5.0)
  (row,) = _score(tmp_path).speedups
  assert row.algoperf_runtime_ratio == pytest.approx(
    math.sqrt(0.5 * 2001 / 20.0), rel=1e-12)


def test_algoperf_ratio_by_steps_replaces_misses_with_step_budget(tmp_path):
  exp = tmp_path / 'exp'
  synthetic.write_submission(exp, 'baseline', {'alpha': 1, 'beta': 1,
                                               'alpha_tweak': 1})
  synthetic.write_submission(exp, 'other', {'alpha': 1, 'beta': None,
                                            'alpha_tweak': 1})
  external = _score(tmp_path, time_col='global_step', ruleset='external')
  # alpha: 200 steps each; beta: (step budget + 1) / 200.
  assert external.speedups[0].algoperf_runtime_ratio == pytest.approx(
    math.sqrt(1.0 * (100 + 1) / 200.0), rel=1e-12)
  # Self-tuning trials may train 3x longer (v0.5): so may their steps.
  self_tuning = _score(tmp_path, time_col='global_step', ruleset='self')
  assert self_tuning.speedups[0].algoperf_runtime_ratio == pytest.approx(
    math.sqrt(1.0 * (3 * 100 + 1) / 200.0), rel=1e-12)


def test_reference_is_the_best_scoring_submission_unless_named(tmp_path):
  exp = tmp_path / 'exp'
  # 'aaa' sorts first but scores worst: it is no longer the reference.
  synthetic.write_submission(exp, 'aaa', {'alpha': 3, 'beta': 3,
                                          'alpha_tweak': 3})
  synthetic.write_submission(exp, 'zzz', {'alpha': 1, 'beta': 1,
                                          'alpha_tweak': 1})
  best = _score(tmp_path)
  assert (best.reference, best.reference_how) == ('zzz',
                                                  pipeline.BEST_SCORING)
  assert best.speedups[0].speedup == pytest.approx(0.5)  # aaa: 2x slower.
  named = _score(tmp_path, reference_submission='aaa')
  assert (named.reference, named.reference_how) == ('aaa', pipeline.NAMED)
  assert named.speedups[0].speedup == pytest.approx(2.0)


def test_tau_grid_is_numpy_linspace():
  assert profiles.tau_grid(1.0, 4.0, 100) == list(np.linspace(1.0, 4.0, 100))
