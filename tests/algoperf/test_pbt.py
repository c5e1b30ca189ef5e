"""Population-based training: decisions replayed from a seed, and a real
population of mnist trials that exploit and explore each other."""

import dataclasses
import json
import math
import pathlib

import numpy as np
import pytest

from algoperf import cli
from algoperf import pbt
from algoperf import pbt_decisions
from algoperf import records
from algoperf import study
from algoperf import study_backends
from algoperf import submission as submission_lib
from algoperf import trial_checkpoint
from tests.conftest import REPO

SPACE = {'learning_rate': {'min': 1e-4, 'max': 1e-2, 'scaling': 'log'},
         'warmup_factor': {'feasible_points': [0.0, 0.05, 0.1]}}


def _generations(seed, count=4, size=6):
  """Scores and hyperparameters as a run would log them (any values do:
  decide() is a pure function of them and the generator)."""
  rng = np.random.default_rng(seed)
  hps = {m: {'learning_rate': float(rng.uniform(1e-4, 1e-2)),
             'warmup_factor': 0.05} for m in range(1, size + 1)}
  out = []
  for _ in range(count):
    scores = {m: float(rng.uniform()) for m in hps}
    out.append({'scores': scores, 'hyperparameters': hps})
  return out


def test_decisions_replay_from_the_seed():
  logged = _generations(1)
  made = pbt_decisions.replay(logged, SPACE, np.random.default_rng(42),
                              'max', 0.25)
  again = pbt_decisions.replay(logged, SPACE, np.random.default_rng(42),
                               'max', 0.25)
  assert made == again
  other = pbt_decisions.replay(logged, SPACE, np.random.default_rng(43),
                               'max', 0.25)
  assert other != made  # The seed, not the scores alone, decides explores.


def test_the_bottom_quantile_copies_the_top_and_explores_within_range():
  scores = {1: 0.9, 2: 0.1, 3: 0.5, 4: 0.7, 5: math.nan, 6: 0.3, 7: 0.8,
            8: 0.6}
  hps = {m: {'learning_rate': 1e-2, 'warmup_factor': 0.05, 'other': 1}
         for m in scores}
  decisions = pbt_decisions.decide(scores, hps, SPACE,
                                   np.random.default_rng(0), 'max', 0.25)
  exploit = {d['member']: d for d in decisions if d['action'] == 'exploit'}
  assert sorted(exploit) == [2, 5]  # NaN ranks last, then the lowest.
  for d in exploit.values():
    assert d['donor'] in (1, 7)  # The top quarter.
    after = d['hyperparameters_after']
    assert after['learning_rate'] in (pytest.approx(8e-3), 1e-2)  # Clipped.
    assert after['warmup_factor'] in SPACE['warmup_factor']['feasible_points']
    assert after['other'] == 1  # Not in the space: kept.
  minimised = pbt_decisions.decide(scores, hps, SPACE,
                                   np.random.default_rng(0), 'min', 0.25)
  assert sorted(d['member'] for d in minimised
                if d['action'] == 'exploit') == [1, 5]


@pytest.mark.slow  # Nine trial attempts, each compiling: ~40 s on 2 cores.
def test_a_population_exploits_through_checkpoints(tmp_path):
  spec = study.StudySpec(
    submission=str(REPO / 'reference_algorithms' / 'nadamw'),
    workloads=('mnist',), experiment_dir=str(tmp_path), name='p',
    num_trials=3, synthetic_data=64, rng_seed=3)
  space_file = tmp_path / 'space.json'
  space_file.write_text('{"learning_rate": {"min": 1e-4, "max": 1e-1, '
                        '"scaling": "log"}, "warmup_factor": '
                        '{"feasible_points": [0.0]}}')
  spec = study.StudySpec(**{**spec.__dict__, 'search_space': str(space_file)})
  spec_pbt = pbt.PbtSpec(spec, generations=3, steps_per_generation=4,
                         quantile=0.34)
  submission = submission_lib.load_submission(spec.submission)
  lines = []
  logs = pbt.run_pbt(spec_pbt, submission, _inline_without_budget,
                     announce=lines.append)
  log = logs[0]
  assert [r['generation'] for r in log['history']] == [1, 2, 3]
  first = log['history'][0]
  exploits = [d for d in first['decisions'] if d['action'] == 'exploit']
  assert len(exploits) == 1
  # Replayed from the logged seed and inputs: the same decisions.
  rng = np.random.default_rng(log['rng_seed'])
  replayed = pbt_decisions.replay(
    [r['decided_on'] for r in log['history'] if 'decided_on' in r],
    json.loads(space_file.read_text()), rng, 'max', 0.34)
  logged = [r['decisions'] for r in log['history'] if 'decisions' in r]
  assert _plain(replayed) == _plain(logged)
  # Every member trained 4 steps per generation: 3 x 3 x 4 steps in all.
  assert log['compute']['steps'] == 36
  assert log['compute']['submission_time'] > 0
  assert any('exploits' in line for line in lines)
  # The copy continued the donor: the exploiting member's eval history
  # starts with the donor's rows up to the copied step.
  decision = exploits[0]
  member, donor = decision['member'], decision['donor']
  rows = {m: records.read_rows_csv(
    records.trial_dir(tmp_path, 'p', 0, 'mnist', m)
    / records.EVAL_MEASUREMENTS) for m in (member, donor)}
  assert rows[member][:2] == rows[donor][:2]
  flags = records.read_json(records.trial_dir(tmp_path, 'p', 0, 'mnist',
                                              member) / 'flags_1.json')
  assert flags['ruleset'] == 'pbt'
  assert flags['hyperparameters'] == decision['hyperparameters_after']
  # Finished: the checkpoints are gone, every member's status is final.
  for m in (1, 2, 3):
    trial = records.trial_dir(tmp_path, 'p', 0, 'mnist', m)
    assert trial_checkpoint.load_latest(trial) is None
    assert records.read_json(trial / records.STATUS)['status'] == 'max_steps'
  with pytest.raises(Exception, match='not resumed'):
    pbt.run_pbt(spec_pbt, submission, lambda jobs, done: None)


def _inline_without_budget(jobs, done):
  """In this process, where compiling would spend mnist's 2 s budget."""
  jobs = [dataclasses.replace(job, config=dataclasses.replace(
    job.config, budget_multiplier=1000.0)) for job in jobs]
  study_backends.run_jobs(jobs, 'inline', done)


def _plain(value):
  """JSON's view (member keys as they were logged)."""
  return json.loads(json.dumps(value))


def test_the_cli_refuses_a_population_of_one(tmp_path, capsys):
  code = cli.main(['study', '--tuner', 'pbt', '--submission',
                   str(REPO / 'reference_algorithms' / 'nadamw'),
                   '--workloads', 'mnist', '--trials', '1',
                   '--experiment-dir', str(tmp_path), '--name', 'x',
                   '--synthetic-data', '64'])
  assert code != 0
  assert 'population of at least 2' in capsys.readouterr().err


@pytest.mark.slow  # Two trial attempts, each compiling.
def test_a_paused_trial_keeps_its_checkpoint_and_resumes_from_it(tmp_path):
  from algoperf import registry
  from algoperf import runner

  workload = registry.make_workload('mnist')
  workload.use_synthetic_data(64)
  workload.override_facts(max_allowed_runtime_sec=3600)
  submission = submission_lib.load_submission(
    REPO / 'reference_algorithms' / 'nadamw')
  config = runner.RunConfig(
    experiment_dir=str(tmp_path), experiment_name='x', max_steps=6,
    eval_every_steps=3, checkpoint_every_sec=1e9, pause_at_step=3,
    progress=False)
  paused = runner.run_trial(workload, submission, config)
  # Evals come after step 1, then every 3: the first at or past 3 is 4.
  assert (paused.status, paused.global_step) == (records.PAUSED, 4)
  status = records.read_json(pathlib.Path(paused.trial_dir) / records.STATUS)
  assert status['status'] == records.RUNNING  # Not finished: resumable.
  assert trial_checkpoint.load_latest(paused.trial_dir)['global_step'] == 4
  done = runner.run_trial(workload, submission, dataclasses.replace(
    config, pause_at_step=None))
  assert (done.status, done.global_step) == (records.MAX_STEPS, 6)
  rows = records.read_rows_csv(pathlib.Path(done.trial_dir)
                               / records.EVAL_MEASUREMENTS)
  assert [r['global_step'] for r in rows] == [1, 4, 6]
  assert trial_checkpoint.load_latest(done.trial_dir) is None
