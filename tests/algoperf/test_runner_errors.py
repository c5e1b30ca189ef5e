"""Broken submissions get a clear message or status; earlier files survive."""

import dataclasses
import pathlib

import jax
import jax.numpy as jnp
import pytest

from algoperf import records
from algoperf import runner
from algoperf import submission as submission_lib
from algoperf.errors import SubmissionError
from tests.algoperf.conftest import digest
from tests.conftest import ALGOPERF_STYLE
from tests.conftest import load_fixture_submission


def _config(experiment_dir, trial=1, **kwargs):
  return runner.RunConfig(experiment_dir=str(experiment_dir),
                          experiment_name='errors', trial=trial,
                          progress=False, **kwargs)


def _write_variant(tmp_path, old, new):
  source = ALGOPERF_STYLE.joinpath('submission.py').read_text()
  assert old in source
  path = tmp_path / 'broken' / 'submission.py'
  path.parent.mkdir()
  path.write_text(source.replace(old, new))
  return path


def test_missing_function_is_named(tmp_path):
  path = _write_variant(tmp_path, 'def data_selection(', 'def _selection(')
  with pytest.raises(SubmissionError, match='missing function data_selection'):
    submission_lib.load_submission(path)


def test_wrong_signature_is_described(tmp_path):
  path = _write_variant(
    tmp_path, 'def init_optimizer_state(workload, model_params, model_state,',
    'def init_optimizer_state(workload, model_params,')
  with pytest.raises(SubmissionError,
                     match=r'init_optimizer_state\(.*\) takes 4 positional'):
    submission_lib.load_submission(path)


def test_syntax_error_names_the_line(tmp_path):
  path = _write_variant(tmp_path, 'def get_batch_size(workload_name):',
                        'def get_batch_size(workload_name)')
  with pytest.raises(SubmissionError, match=r'submission.py:\d+: syntax'):
    submission_lib.load_submission(path)


def test_raising_update_params_is_recorded_and_earlier_trials_intact(
    mnist_synthetic, experiment_dir):
  good = runner.run_trial(mnist_synthetic, load_fixture_submission(),
                          _config(experiment_dir, trial=1, max_steps=2))
  before = digest(pathlib.Path(good.trial_dir))

  def update_params(*args, **kwargs):
    raise RuntimeError('optimizer exploded')

  broken = load_fixture_submission(update_params=update_params)
  with pytest.raises(SubmissionError, match='update_params raised '
                     'RuntimeError: optimizer exploded'):
    runner.run_trial(mnist_synthetic, broken,
                     _config(experiment_dir, trial=2))
  trial_2 = pathlib.Path(good.trial_dir).parent / 'trial_2'
  status = records.read_json(trial_2 / 'status.json')
  assert status['status'] == records.ERROR
  assert 'optimizer exploded' in status['message']
  assert digest(pathlib.Path(good.trial_dir)) == before


def test_wrong_structure_is_rejected(mnist_synthetic, experiment_dir):
  base = load_fixture_submission()

  def update_params(*args, **kwargs):
    opt_state, params, model_state = base.update_params(*args, **kwargs)
    params = dict(params)
    params.pop('Dense_out')
    return opt_state, params, model_state

  broken = dataclasses.replace(base, update_params=update_params)
  with pytest.raises(SubmissionError, match='different pytree structure'):
    runner.run_trial(mnist_synthetic, broken, _config(experiment_dir))


def test_returning_none_is_rejected(mnist_synthetic, experiment_dir):
  broken = load_fixture_submission(update_params=lambda *a, **k: None)
  with pytest.raises(SubmissionError, match='expected a tuple'):
    runner.run_trial(mnist_synthetic, broken, _config(experiment_dir))


def test_nan_loss_gives_diverged_status(mnist_synthetic, experiment_dir):
  base = load_fixture_submission()

  def update_params(*args, **kwargs):
    opt_state, params, model_state = base.update_params(*args, **kwargs)
    params = jax.tree.map(lambda p: p * jnp.nan, params)
    return opt_state, params, model_state

  broken = dataclasses.replace(base, update_params=update_params)
  # Not about the budget: a loaded machine can spend mnist's 2 s compiling.
  mnist_synthetic.override_facts(max_allowed_runtime_sec=10**9)
  result = runner.run_trial(mnist_synthetic, broken, _config(experiment_dir))
  assert result.status == records.DIVERGED
  assert 'Non-finite loss at step 1' in result.message
  status = records.read_json(pathlib.Path(result.trial_dir) / 'status.json')
  assert status['status'] == records.DIVERGED


def test_batch_size_not_divisible_by_devices(mnist_synthetic,
                                             experiment_dir, monkeypatch):
  monkeypatch.setattr(jax, 'devices', lambda: [object()] * 8)
  broken = load_fixture_submission(get_batch_size=lambda name: 12)
  with pytest.raises(SubmissionError, match='not a positive multiple of the '
                     '8 devices'):
    runner.run_trial(mnist_synthetic, broken, _config(experiment_dir))

