"""Refined schedules (Defazio et al. 2023): math, CLI and submission."""

import csv
import json

import numpy as np
import pytest

from algoperf import cli
from algoperf import refined_schedule as rs
from algoperf.errors import AlgoperfError
from reference_algorithms import schedules
from reference_algorithms.common import hyperparameters as hparams_lib


def _write_grad_norms(path, l1, l2=None):
  l2 = l1 if l2 is None else l2
  with open(path, 'w', newline='') as f:
    writer = csv.writer(f)
    writer.writerow(['global_step', 'grad_norm_l1', 'grad_norm_l2'])
    for step, (a, b) in enumerate(zip(l1, l2)):
      writer.writerow([step, a, b])


@pytest.mark.parametrize('norm', ['l1', 'l2'])
def test_constant_norms_give_exactly_linear_decay(norm):
  steps = 200
  eta = rs.refine(np.full(steps, 3.7), norm)
  linear = schedules.linear_decay(1.0, steps)
  expected = np.array([float(linear(t)) for t in range(steps)])
  np.testing.assert_allclose(eta, 1 - np.arange(steps) / steps, atol=1e-12)
  np.testing.assert_allclose(eta, expected, atol=1e-6)


@pytest.mark.parametrize('norm', ['l1', 'l2'])
def test_large_early_norms_produce_a_warmup(norm):
  # Norms fall from 100 to 1 over the first quarter, then stay at 1.
  norms = np.concatenate([np.geomspace(100, 1, 100), np.ones(300)])
  eta = rs.refine(norms, norm)
  peak = int(np.argmax(eta))
  assert 30 < peak < 200
  assert eta[0] < 0.1
  assert np.all(np.diff(eta[: peak - 20]) >= 0)  # Rises to the peak.


def test_norms_rising_at_the_end_anneal_faster():
  steps = 400
  flat = rs.refine(np.ones(steps), 'l1')
  rising = rs.refine(
    np.concatenate([np.ones(300), np.linspace(1, 20, 100)]), 'l1'
  )
  # Same start (peak at step 0), then lower everywhere in the last stretch.
  assert int(np.argmax(rising)) == 0
  late = slice(300, steps)
  assert np.all(rising[late] <= flat[late] + 1e-12)
  assert rising[350] < 0.5 * flat[350]


def test_l2_weights_react_more_than_l1():
  norms = np.concatenate([np.full(50, 10.0), np.ones(150)])
  l1, l2 = rs.refine(norms, 'l1'), rs.refine(norms, 'l2')
  assert l2[10] < l1[10]  # g^-2 down-weights the large early norms more.


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_output_is_nonnegative_with_peak_one(seed):
  norms = np.random.default_rng(seed).lognormal(size=300)
  eta = rs.refine(norms, 'l1')
  assert np.all(eta >= 0)
  assert eta.max() == pytest.approx(1.0)
  assert len(eta) == 300


def test_median_filter_removes_single_spikes():
  values = np.ones(50)
  values[20] = 1000.0
  np.testing.assert_array_equal(rs.median_filter(values, 5), np.ones(50))


@pytest.mark.parametrize('steps', [1, 37, 100, 1000])
def test_resample_length_and_linear_stays_linear(steps):
  linear = 1 - np.arange(100) / 100
  out = rs.resample(linear, steps)
  assert len(out) == steps
  np.testing.assert_allclose(out, 1 - np.arange(steps) / steps, atol=1e-2)


def test_refine_rejects_bad_input():
  with pytest.raises(ValueError, match='norm'):
    rs.refine(np.ones(10), 'l3')
  with pytest.raises(ValueError, match='finite'):
    rs.refine(np.array([1.0, np.nan, 1.0]), 'l1')
  with pytest.raises(ValueError, match='at least 2'):
    rs.refine(np.ones(1), 'l1')


def test_refine_cli_writes_the_schedule(tmp_path):
  trial = tmp_path / 'exp' / 'study_0' / 'mnist_jax' / 'trial_1'
  trial.mkdir(parents=True)
  _write_grad_norms(trial / 'grad_norms.csv', np.ones(120), np.ones(120))
  out = tmp_path / 'schedule.json'
  assert (
    cli.main(
      [
        'refine',
        str(tmp_path / 'exp'),
        '-o',
        str(out),
        '--norm',
        'l2',
        '--steps',
        '60',
      ]
    )
    == 0
  )
  document = json.loads(out.read_text())
  assert document['norm'] == 'l2'
  assert document['source_steps'] == 120
  assert document['steps'] == 60
  np.testing.assert_allclose(
    document['values'], 1 - np.arange(60) / 60, atol=1e-6
  )
  np.testing.assert_allclose(
    rs.load_schedule(out, 30), 1 - np.arange(30) / 30, atol=1e-6
  )


def test_refine_cli_defaults_to_l1_and_the_run_length(tmp_path):
  _write_grad_norms(
    tmp_path / 'grad_norms.csv', np.linspace(1, 5, 80), np.ones(80)
  )
  out = tmp_path / 'schedule.json'
  assert cli.main(['refine', str(tmp_path), '-o', str(out)]) == 0
  document = json.loads(out.read_text())
  assert document['norm'] == 'l1'
  assert document['steps'] == 80
  assert max(document['values']) == pytest.approx(1.0)


def test_refine_cli_errors_name_the_problem(tmp_path):
  with pytest.raises(AlgoperfError, match='no grad_norms.csv'):
    from algoperf.commands import refine

    refine.find_grad_norms(tmp_path)
  (tmp_path / 'grad_norms.csv').write_text('global_step,loss\n0,1.0\n')
  assert (
    cli.main(['refine', str(tmp_path), '-o', str(tmp_path / 'x.json')]) == 1
  )


def _refined_submission():
  from algoperf import submission as submission_lib
  from tests.reference_algorithms.test_submissions import ROOT

  return submission_lib.load_submission(ROOT / 'refined').module


def test_refined_submission_scales_the_file_by_the_peak(tmp_path):
  module = _refined_submission()
  path = tmp_path / 'schedule.json'
  shape = np.concatenate([np.linspace(0, 1, 10), np.linspace(1, 0, 90)])
  path.write_text(json.dumps({'values': shape.tolist()}))
  hp = hparams_lib.resolve(
    {'schedule_path': str(path), 'learning_rate': 0.5}, module.DEFAULTS
  )
  lr = module.refined_learning_rate(hp, step_hint=200)  # Resampled to 200.
  values = np.array([float(lr(t)) for t in range(201)])
  np.testing.assert_allclose(
    values[:200], 0.5 * rs.resample(shape, 200), atol=1e-6
  )
  assert values[200] == 0.0
  assert values.max() == pytest.approx(0.5, rel=1e-3)


def test_refined_submission_falls_back_to_linear_decay(caplog):
  module = _refined_submission()
  hp = hparams_lib.resolve({'learning_rate': 2.0}, module.DEFAULTS)
  lr = module.refined_learning_rate(hp, step_hint=100)
  assert 'falling back to linear decay' in caplog.text
  assert [float(lr(t)) for t in (0, 50, 100)] == pytest.approx([2, 1, 0])


def test_refined_submission_names_a_missing_file():
  module = _refined_submission()
  hp = hparams_lib.resolve({'schedule_path': 'nope.json'}, module.DEFAULTS)
  with pytest.raises(FileNotFoundError, match='algoperf refine'):
    module.refined_learning_rate(hp, step_hint=100)
