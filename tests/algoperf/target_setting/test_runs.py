"""Target-setting runs: planning, resuming, refusing a stale winner."""

import dataclasses
import json

import pytest

from algoperf import records
from algoperf import registry
from algoperf.target_setting import runs
from algoperf.target_setting import stages
from algoperf.target_setting import table
from algoperf.target_setting.runs import TargetSettingError
from scripts import set_targets

# The current protocol version's first base, a variant of it, and where
# the version keeps its summaries.
BASE = registry.suite().base_workloads[0]
VARIANT = registry.suite().held_out_variant(BASE)
SUMMARIES = table.summaries_dir()
POINT = {'learning_rate': 0.1, 'one_minus_beta1': 0.1, 'weight_decay': 1e-4,
         'warmup_factor': 0.05, 'label_smoothing': 0.0, 'dropout_rate': 0.0}


def _finish(job, status=records.MAX_STEPS):
  job.trial_dir.mkdir(parents=True)
  records.write_json(job.trial_dir / records.HPARAMS,
                     job.config.hyperparameters)
  records.write_json(job.trial_dir / records.STATUS, {'status': status})


def test_a_finished_seed_run_of_another_winner_is_refused(tmp_path):
  workload = registry.make_workload('census_dlrm')
  plan = runs.rerun_plan(workload, 'nesterov', POINT, 1, tmp_path)
  [job] = plan.jobs
  _finish(job)
  done = []
  assert runs.execute([plan], 1, lambda j, s: done.append(j)) == 0
  assert done == []  # The same point, finished: reused, not rerun.

  # Re-tuning picked another winner: the old seed run must not count.
  other = runs.rerun_plan(workload, 'nesterov', dict(POINT, learning_rate=0.2),
                          1, tmp_path)
  assert other.jobs[0].trial_dir == job.trial_dir
  with pytest.raises(TargetSettingError, match='Move .* aside'):
    runs.execute([other], 1, lambda j, s: done.append(j))
  assert done == []
  # Once that run is moved aside, the recorded plan still names the old
  # point: refused again, with the same fix.
  job.trial_dir.rename(tmp_path / 'aside')
  with pytest.raises(TargetSettingError, match='was planned with .* Move '):
    runs.execute([other], 1, lambda j, s: done.append(j))
  assert done == []


def test_tuning_runs_read_no_test_split_and_seed_reruns_read_all(tmp_path):
  from algoperf import runner

  workload = registry.make_workload('census_dlrm')
  [tuning] = runs.tuning_plan(workload, 'nesterov', 1, tmp_path).jobs
  [rerun] = runs.rerun_plan(workload, 'nesterov', POINT, 1, tmp_path).jobs
  assert runner.eval_plan(workload, tuning.config) == runner.EvalPlan(
    ('train', 'validation'))
  # The test target is the seeds' test metric where they first reach the
  # validation target, which no one knows before they end: every eval, in
  # a call of its own, timed apart (the eval share a scored run pays).
  assert runner.eval_plan(workload, rerun.config) == runner.EvalPlan(
    ('train', 'validation'), separate_test=True)


# End to end (real trials, 20-40 s on 2 cores): in the slow set, to keep
# CI's fast suite within its time (docs/design.md §13).
@pytest.mark.slow
def test_runs_go_longest_first_and_none_start_after_the_deadline(tmp_path):
  empty = tmp_path / 'no_data'  # Every run fails at once: no training.
  empty.mkdir()
  plans = [runs.rerun_plan(registry.make_workload(name), 'nesterov', POINT,
                           1, tmp_path / 'runs', str(empty))
           for name in ('mnist', 'census_dlrm')]
  assert runs.execute(plans, 1, lambda j, s: None, deadline=0.0) == 2
  assert not any(j.trial_dir.exists() for p in plans for j in p.jobs)
  planned = records.read_json(records.study_plan_path(
    tmp_path / 'runs' / 'seeds_nesterov'))
  assert {t['workload'] for t in planned['trials']} == {'mnist',
                                                       'census_dlrm'}
  ran = []
  assert runs.execute(plans, 1, lambda j, s: ran.append(
    (j.workload, s['status']))) == 0
  longest = max(('mnist', 'census_dlrm'), key=runs._estimated_seconds)
  assert ran[0] == (longest, records.ERROR) and len(ran) == 2


def _finished_tuning_run(job, evals):
  """The files a finished run leaves, as far as the summary reads them."""
  _finish(job)
  records.write_json(job.trial_dir / 'flags_0.json', {
    'rng_seed': job.config.rng_seed,
    'hyperparameters': job.config.hyperparameters})
  records.write_json(job.trial_dir / 'meta_data_0.json', {
    'processor': 'Test CPU', 'cpu_count': 2, 'jax_backend': 'cpu',
    'software_versions': {'jax': '1', 'flax': '2', 'optax': '3'}})
  records.write_rows_csv(job.trial_dir / records.EVAL_MEASUREMENTS, [
    {'global_step': s, 'accumulated_submission_time': t,
     'validation/accuracy': v, 'test/accuracy': v} for s, t, v in evals])


def test_a_stage_summarises_finished_runs_and_leaves_the_rest(
    tmp_path, capsys):
  options = stages.StageOptions(tmp_path, str(tmp_path / 'runs'),
                                workloads=(BASE,))
  [(workload, plans)] = stages._plans('tune', 'base', options)
  assert sorted(plans) == ['nadamw', 'nesterov']
  assert len(plans['nadamw'].jobs) == 8  # protocol.BASE_POINTS
  _finished_tuning_run(plans['nadamw'].jobs[0], [(10, 1.5, 0.5),
                                                 (20, 3.0, 0.9)])
  # A deadline already past: the 15 other runs are left for a rerun.
  assert stages.run_stages([('tune', 'base')], options, 1e-9) == 15
  out = capsys.readouterr().out
  assert 'tune base: 16 runs over 1 workloads' in out  # Not summarised.
  assert f'wrote {SUMMARIES}/tune/{BASE}.json' in out
  summary = json.loads((tmp_path / SUMMARIES / 'tune' / f'{BASE}.json')
                       .read_text())
  [run] = summary['runs']
  assert (run['algorithm'], run['trial'], run['status']) == (
    'nadamw', 1, records.MAX_STEPS)
  assert run['evals'] == [[10, 1.5, 0.5, 0.5], [20, 3.0, 0.9, 0.9]]
  assert run['hardware']['processor'] == 'Test CPU'
  # Another machine's share: runs in the summary are not planned again.
  other = stages.StageOptions(tmp_path, str(tmp_path / 'elsewhere'),
                              workloads=(BASE,))
  assert stages.run_stages([('tune', 'base')], other, 1e-9) == 15
  assert 'tune base: 15 runs' in capsys.readouterr().out
  # One run of 16 has no winner yet: neither the seeds nor a variant's
  # tuning may start from it.
  _next_stages_refused(other, r'holds 1 of the tuning\'s 16 runs: finish '
                       'it first', 'holds 1 of')


def test_bad_stage_requests_are_one_clear_error(capsys):
  assert set_targets.main(['tune', '--stage', 'variants', '--workloads',
                           'mnist']) == 1
  assert 'are not variants workloads' in capsys.readouterr().err
  for stages_flag in ('tune:everything', 'tune'):
    assert set_targets.main(['pipeline', '--stages', stages_flag]) == 1
    assert 'expected KIND:STAGE' in capsys.readouterr().err


def _next_stages_refused(options, seeds_error: str, variant_error: str):
  """The base's seed stage and its variant's tuning both refuse to
  start."""
  with pytest.raises(TargetSettingError, match=seeds_error):
    stages.run_stages([('seeds', 'base')], options)
  variant = dataclasses.replace(options, workloads=(VARIANT,))
  with pytest.raises(TargetSettingError, match=variant_error):
    stages.run_stages([('tune', 'variants')], variant)


def test_a_stage_before_the_one_it_needs_is_refused(tmp_path):
  options = stages.StageOptions(tmp_path, str(tmp_path / 'runs'),
                                workloads=(BASE,))
  _next_stages_refused(options, r'run `tune --stage base` first '
                       rf'\(no .*tune/{BASE}.json\)',
                       f'tune the base workload {BASE}')


def test_a_version_outside_the_declared_range_stops_every_stage(
    tmp_path, monkeypatch):
  import importlib.metadata as md

  from algoperf import version

  assert runs.undeclared_versions() == []  # This environment is in range.
  declared = md.requires(version.PACKAGE)
  monkeypatch.setattr(md, 'requires', lambda name: [
    r if not r.startswith('jax<') else 'jax<0.1' for r in declared])
  [problem] = runs.undeclared_versions()
  assert problem.startswith(f'jax {md.version("jax")} is installed, outside')
  options = stages.StageOptions(tmp_path, str(tmp_path / 'runs'),
                                workloads=('mnist',))
  with pytest.raises(runs.TargetSettingError, match='outside the declared'):
    stages.run_stages([('tune', 'base')], options)
  assert not (tmp_path / 'runs').exists()  # Nothing ran.
