"""Study planning, seeds, bad input and the experiment lock (no training)."""

import json
import os
import platform
import subprocess
import sys

import pytest

from algoperf import experiment_lock
from algoperf import records
from algoperf import study
from algoperf import study_status
from algoperf import tuning
from algoperf.errors import SearchSpaceError
from algoperf.errors import SubmissionError
from tests.conftest import ALGOPERF_STYLE
from tests.conftest import load_fixture_submission

SPACE = {
  'learning_rate': {'min': 1e-4, 'max': 1e-1, 'scaling': 'log'},
  'beta1': {'min': 0.8, 'max': 0.99, 'scaling': 'linear'},
  'label_smoothing': {'feasible_points': [0.0, 0.1, 0.2]},
}


def _spec(tmp_path, space=SPACE, **kwargs):
  path = tmp_path / 'space.json'
  path.write_text(json.dumps(space))
  fields = dict(submission=str(ALGOPERF_STYLE), workloads=('mnist',),
                experiment_dir=str(tmp_path / 'exp'), name='plan',
                num_studies=3, num_trials=4, rng_seed=7,
                search_space=str(path))
  fields.update(kwargs)
  return study.StudySpec(**fields)


def _by_study(jobs):
  points = {}
  for job in jobs:
    points.setdefault(job.config.study, []).append(
      job.config.hyperparameters)
  return points


def test_same_seed_gives_identical_points_and_seeds(tmp_path):
  submission = load_fixture_submission()
  first = study.plan_trials(_spec(tmp_path), submission)
  again = study.plan_trials(_spec(tmp_path), submission)
  assert len(first) == 3 * 4
  assert [j.config for j in first] == [j.config for j in again]
  seeds = [j.config.rng_seed for j in first]
  assert len(set(seeds)) == len(seeds)  # One seed per (study, trial).
  other = study.plan_trials(_spec(tmp_path, rng_seed=8), submission)
  assert [j.config.rng_seed for j in other] != seeds


def test_different_studies_get_different_points(tmp_path):
  points = _by_study(study.plan_trials(_spec(tmp_path),
                                       load_fixture_submission()))
  assert sorted(points) == [0, 1, 2]
  rates = [tuple(p['learning_rate'] for p in points[s]) for s in points]
  assert len(set(rates)) == 3
  for study_points in points.values():
    for p in study_points:
      assert 1e-4 <= p['learning_rate'] <= 1e-1
      assert 0.8 <= p['beta1'] <= 0.99
      assert p['label_smoothing'] in (0.0, 0.1, 0.2)


def test_list_space_gives_every_study_its_first_points(tmp_path):
  space = [{'learning_rate': 0.1}, {'learning_rate': 0.2},
           {'learning_rate': 0.3}]
  points = _by_study(study.plan_trials(
    _spec(tmp_path, space=space, num_trials=2), load_fixture_submission()))
  assert all(p == space[:2] for p in points.values())
  with pytest.raises(SearchSpaceError, match='lists only 3 points'):
    study.plan_trials(_spec(tmp_path, space=space, num_trials=4),
                      load_fixture_submission())


def test_self_tuning_is_one_trial_per_study_with_budget_multiplier(tmp_path):
  jobs = study.plan_trials(
    _spec(tmp_path, ruleset='self', num_trials=1, search_space=None),
    load_fixture_submission())
  assert [(j.config.study, j.config.trial) for j in jobs] == [
    (0, 1), (1, 1), (2, 1)]
  assert all(j.config.hyperparameters is None for j in jobs)
  assert all(j.config.budget_multiplier == 3.0 for j in jobs)


@pytest.mark.parametrize('space, message', [
  ({'lr': {'min': 1, 'max': 2, 'scaling': 'cubic'}}, 'unknown scaling'),
  ({'lr': {'min': 2, 'max': 1}}, 'min 2 > max 1'),
  ({'lr': {'min': 0, 'max': 1, 'scaling': 'log'}}, 'needs min > 0'),
  ({'lr': {'min': 'a', 'max': 1}}, '"min" must be a number'),
  ({'lr': {'feasible_points': []}}, 'non-empty list'),
  ({'lr': {'max': 1}}, 'needs "min" and "max"'),
  ([], 'list of points is empty'),
  ({}, 'defines no hyperparameters'),
])
def test_malformed_spaces_are_rejected_before_training(tmp_path, space,
                                                       message):
  with pytest.raises(SearchSpaceError, match=message) as info:
    study.plan_trials(_spec(tmp_path, space=space), load_fixture_submission())
  assert 'space.json' in str(info.value)
  assert not (tmp_path / 'exp').exists()


def test_missing_hyperparameter_names_itself_and_the_file():
  hp = tuning.make_hyperparameters({'learning_rate': 0.1}, 'space.json')
  assert hp.learning_rate == 0.1
  assert getattr(hp, 'beta1', 0.9) == 0.9  # Optional reads keep working.
  assert not hasattr(hp, 'beta1')
  with pytest.raises(SubmissionError) as info:
    hp.weight_decay  # noqa: B018
  assert "'weight_decay'" in str(info.value)
  assert 'space.json' in str(info.value)


def test_rerun_with_other_seed_refuses(tmp_path):
  submission = load_fixture_submission()
  spec = _spec(tmp_path)
  study.record_plan(spec, study.plan_trials(spec, submission))
  study.record_plan(spec, study.plan_trials(spec, submission))  # Same: ok.
  other = _spec(tmp_path, rng_seed=99)
  with pytest.raises(study.StudyMismatchError, match='--rng-seed'):
    study.record_plan(other, study.plan_trials(other, submission))


def test_planned_trials_show_as_pending(tmp_path):
  spec = _spec(tmp_path, num_studies=2, num_trials=2)
  study.record_plan(spec, study.plan_trials(spec, load_fixture_submission()))
  rows = study_status.collect(tmp_path / 'exp')
  assert [(r['study'], r['trial'], r['state']) for r in rows] == [
    (0, 1, 'pending'), (0, 2, 'pending'), (1, 1, 'pending'),
    (1, 2, 'pending')]


def test_plan_is_kept_in_the_harness_directory(tmp_path):
  spec = _spec(tmp_path)
  path = study.record_plan(spec, study.plan_trials(
    spec, load_fixture_submission()))
  experiment = tmp_path / 'exp' / 'plan'
  assert path == experiment / '.algoperf' / 'study.json'
  # Only directories at the submission level (AlgoPerf reads each as a
  # study): no file beside the studies.
  assert [p.name for p in experiment.iterdir()] == ['.algoperf']


def _move_plan_to_the_old_place(tmp_path):
  experiment = tmp_path / 'exp' / 'plan'
  records.study_plan_path(experiment).rename(experiment / 'study.json')
  (experiment / '.algoperf').rmdir()
  return experiment


def test_plan_at_the_old_place_is_read_and_moved(tmp_path):
  submission = load_fixture_submission()
  spec = _spec(tmp_path, num_studies=1)
  study.record_plan(spec, study.plan_trials(spec, submission))
  experiment = _move_plan_to_the_old_place(tmp_path)
  assert len(study_status.collect(tmp_path / 'exp')) == 4  # Read there.
  other = _spec(tmp_path, num_studies=1, rng_seed=99)
  with pytest.raises(study.StudyMismatchError, match='study.json'):
    study.record_plan(other, study.plan_trials(other, submission))
  more = _spec(tmp_path, num_studies=2)  # Adds study 1 to study 0's plan.
  study.record_plan(more, study.plan_trials(more, submission))
  assert not (experiment / 'study.json').exists()
  moved = records.read_json(records.study_plan_path(experiment))
  assert sorted({t['study'] for t in moved['trials']}) == [0, 1]


def test_second_writer_is_refused_with_owner(tmp_path):
  with experiment_lock.experiment_lock(tmp_path / 'exp'):
    with pytest.raises(experiment_lock.ExperimentLockedError) as info:
      with experiment_lock.experiment_lock(tmp_path / 'exp'):
        pass
  message = str(info.value)
  assert f'process {os.getpid()}' in message and platform.node() in message
  assert 'another --name' in message
  # Released on exit: the next writer gets it.
  with experiment_lock.experiment_lock(tmp_path / 'exp'):
    pass


def test_lock_of_a_dead_process_is_recovered_and_said(tmp_path):
  """A killed writer's lock is free (the kernel released it); its owner
  file still names it: the next writer takes over and says so."""
  dead = subprocess.run([sys.executable, '-c', 'import os; print(os.getpid())'],
                        capture_output=True, text=True, check=True)
  owner = tmp_path / 'exp' / experiment_lock.OWNER_FILE
  owner.parent.mkdir(parents=True)
  owner.write_text(json.dumps({'host': platform.node(),
                               'pid': int(dead.stdout), 'started': 0,
                               'command': 'algoperf study ...'}))
  notes = []
  with experiment_lock.experiment_lock(tmp_path / 'exp',
                                       notes.append) as held:
    assert held.recovered == notes[0]
  assert f'process {dead.stdout.strip()}' in notes[0]
  assert 'recovered the lock' in notes[0]
  assert not owner.exists()  # Released: no owner left behind.
