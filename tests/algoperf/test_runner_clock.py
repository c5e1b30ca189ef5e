"""The clock rules of docs/design.md §6, with an injected clock."""

import dataclasses
import statistics

import pytest

from algoperf import records
from algoperf import runner
from tests.conftest import load_fixture_submission


class FakeTime:
  """A clock that only moves when told to (or by a fixed tick per read)."""

  def __init__(self):
    self.now = 0.0

  def __call__(self):
    return self.now

  def advance(self, seconds):
    self.now += seconds


def _config(experiment_dir, **kwargs):
  return runner.RunConfig(experiment_dir=str(experiment_dir),
                          experiment_name='clock', progress=False, **kwargs)


def _rows(result):
  return records.read_rows_csv(
    __import__('pathlib').Path(result.trial_dir) / 'eval_measurements.csv')


def test_sleeping_submission_stops_within_budget_and_gets_no_late_eval(
    mnist_synthetic, experiment_dir):
  fake = FakeTime()
  base = load_fixture_submission()
  steps = []

  def update_params(*args, **kwargs):
    steps.append(1)
    fake.advance(2.0)  # Each step "sleeps" 2 s.
    return base.update_params(*args, **kwargs)

  submission = dataclasses.replace(base, update_params=update_params)
  workload = mnist_synthetic
  workload.override_facts(max_allowed_runtime_sec=5, eval_period_time_sec=1,
                          eval_every_steps=None)
  result = runner.run_trial(workload, submission, _config(experiment_dir),
                            time_fn=fake)
  assert result.status == records.BUDGET_EXHAUSTED
  assert len(steps) <= 3
  evals = _rows(result)
  assert all(r['accumulated_submission_time'] <= 5 for r in evals)
  assert max(r['global_step'] for r in evals) < result.global_step


def test_slow_eval_is_off_the_clock(mnist_synthetic, experiment_dir):
  fake = FakeTime()
  base = load_fixture_submission()

  def update_params(*args, **kwargs):
    fake.advance(1.0)
    return base.update_params(*args, **kwargs)

  workload = mnist_synthetic
  # 4 fake seconds of training.
  workload.override_facts(eval_every_steps=1, max_allowed_runtime_sec=60)
  real_eval = workload.eval_model
  calls = []

  def slow_eval(*args, **kwargs):
    calls.append(kwargs.get('splits'))
    fake.advance(100.0)  # A very slow eval.
    return real_eval(*args, **kwargs)

  workload.eval_model = slow_eval
  submission = dataclasses.replace(base, update_params=update_params)
  result = runner.run_trial(workload, submission,
                            _config(experiment_dir, max_steps=4),
                            time_fn=fake)
  rows = _rows(result)
  assert [r['score'] for r in rows] == [1.0, 2.0, 3.0, 4.0]
  # 4 evals, the final one reading the test split in a second call (the
  # CPU suite's rule: runner.eval_plan).
  assert len(calls) == 5 and calls[-1] == ('test',)
  assert rows[-1]['accumulated_eval_time'] == pytest.approx(500.0)
  assert result.clock_check['within_1_percent']


def test_compile_time_counts_toward_the_score(mnist_synthetic,
                                              experiment_dir):
  workload = mnist_synthetic
  workload.override_facts(eval_every_steps=1)
  result = runner.run_trial(workload, load_fixture_submission(),
                            _config(experiment_dir, max_steps=30))
  rows = _rows(result)
  times = [r['accumulated_submission_time'] for r in rows]
  later_steps = statistics.median(b - a for a, b in zip(times, times[1:]))
  # Step 1 includes jit compilation of the train step: far slower.
  assert times[0] > 5 * later_steps
  assert result.clock_check['within_1_percent']
  # The target-setting protocol reads the same compile time back from
  # status.json (its compile share of a budget): inside submission time.
  from algoperf.target_setting import runs

  clock = runs.clock_seconds(records.read_json(
    __import__('pathlib').Path(result.trial_dir) / 'status.json'))
  assert 0 < clock['compile_seconds'] <= clock['submission_seconds']
  assert clock['submission_seconds'] == pytest.approx(times[-1], rel=0.05)
  assert clock['eval_seconds'] > 0


def test_accumulators_sum_to_loop_wall_time(mnist_synthetic, experiment_dir):
  workload = mnist_synthetic
  workload.override_facts(eval_every_steps=1)
  result = runner.run_trial(workload, load_fixture_submission(),
                            _config(experiment_dir, max_steps=10))
  check = result.clock_check
  assert check['relative_difference'] <= 0.01
  status = records.read_json(
    __import__('pathlib').Path(result.trial_dir) / 'status.json')
  assert status['clock_self_check']['within_1_percent'] is True
  assert sum(status['accumulators'].values()) == pytest.approx(
    check['loop_wall_time'], rel=0.01)
