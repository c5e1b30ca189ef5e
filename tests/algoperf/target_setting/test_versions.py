"""Protocol versions: cpu-0.3 keeps the suite's targets, cpu-1.0 is frozen."""

import pathlib
import re
import shutil

import pytest

from algoperf.target_setting import protocol
from algoperf.target_setting import runs
from algoperf.target_setting import stages
from algoperf.target_setting import table
from tests.algoperf.target_setting.test_protocol import make_run
from tests.algoperf.target_setting.test_table import REPO
from tests.algoperf.target_setting.test_table import _summary
from tests.conftest import edit_suite_file


def test_cpu_1_0_is_frozen_with_the_committed_search_spaces():
  assert protocol.check_frozen(protocol.version('cpu-1.0'),
                               runs.SPACES_DIR) == []


def test_a_changed_search_space_breaks_the_frozen_version(tmp_path):
  shutil.copytree(runs.SPACES_DIR, tmp_path, dirs_exist_ok=True)
  path = tmp_path / 'nadamw.json'
  path.write_text(path.read_text().replace('0.01', '0.02'))
  problems = protocol.check_frozen(protocol.version('cpu-1.0'), tmp_path)
  assert len(problems) == 1 and 'nadamw.json' in problems[0]
  # cpu-0.3 predates freezing by hash: nothing to check.
  assert protocol.check_frozen(protocol.version('cpu-0.3'), tmp_path) == []


def test_versions_differ_in_seeds_files_and_rules():
  old, new = protocol.version('cpu-0.3'), protocol.version('cpu-1.0')
  assert (old.seeds, new.seeds) == (3, 5)
  assert protocol.SEEDS == protocol.version(protocol.CURRENT).seeds
  assert old.rerun_seed != new.rerun_seed
  assert old.summaries != new.summaries and old.doc != new.doc
  fine = {'compile_share': 0.01, 'eval_share': 0.1}
  assert protocol.problems(old, 2, None, 'accuracy') == []
  assert protocol.problems(new, 2, 0.001, 'accuracy', fine) == [
    'budget 2 s outside 30-120 s']
  assert protocol.problems(new, 60, 0.004, 'loss', fine) == []
  assert 'above the goal' in protocol.problems(new, 60, 0.004, 'wer',
                                               fine)[0]
  assert 'no measured standard' in protocol.problems(new, 60, None, 'wer',
                                                     fine)[0]
  assert protocol.problems(new, 60, 0.001, 'accuracy', {
    'compile_share': 0.06, 'eval_share': 0.2}) == [
      'compilation in the budget 6.0%, over 5%',
      'evaluation in a scored run 20.0%, over 15%']
  assert 'no measured share of compilation' in protocol.problems(
    new, 60, 0.001, 'accuracy')[0]
  # What the version waives, it names per workload, and only there.
  assert protocol.problems(new, 8, 0.001, 'loss', {
    'compile_share': 0.01, 'eval_share': 0.4}, workload='movielens_dlrm') == []
  assert protocol.problems(new, 8, 0.001, 'loss', {
    'compile_share': 0.01, 'eval_share': 0.4}, workload='fashion_mlp') == [
      'evaluation in a scored run 40.0%, over 15%',
      'budget 8 s outside 30-120 s']
  assert 'one epoch' in new.waived('movielens_dlrm', 'budget')
  assert new.waived('fashion_mlp', 'eval_share') is None
  assert set(new.waivers) <= set(new.families)
  assert {r for rules in new.waivers.values() for r in rules} <= set(
    protocol.RULES)
  # 8 bases + 8 held-out at 3x: the base budgets may add up to 600 s.
  assert protocol.study_problems(new, [75] * 8) == []
  assert '61.2 min' in protocol.study_problems(new, [76.5] * 8)[0]
  assert protocol.study_problems(old, [1000]) == []
  with pytest.raises(ValueError, match='cpu-0.3, cpu-1.0'):
    protocol.version('cpu-9')


def test_cpu_1_0_refuses_a_target_that_an_untrained_model_meets():
  old, new = protocol.version('cpu-0.3'), protocol.version('cpu-1.0')
  # WER: CTC's blank-only output reads about 1; so does a first eval.
  assert protocol.first_eval_problems(new, 0.3, [1.02, 0.98], 'min') == []
  [problem] = protocol.first_eval_problems(new, 0.99, [1.02, 0.98], 'min')
  assert 'first eval of 1 of 2 seeds (0.98)' in problem
  assert protocol.first_eval_problems(new, 0.5, [0.1, 0.5], 'max') != []
  assert protocol.first_eval_problems(old, 0.99, [0.98], 'min') == []


def test_the_rule_holds_variants_whose_seeds_stayed_on_a_plateau(tmp_path):
  """A variant whose seeds mostly never leave WER ~1 gets a target that
  its first evals meet: the version's rules list it (and --apply refuses).
  """
  _summary(tmp_path, 'tune', 'w', [make_run(7, [1.0, 0.4, 0.2])], 'min')
  _summary(tmp_path, 'seeds', 'w', [
    make_run(s, [1.0, 0.4, 0.2, 0.2, 0.2]) for s in range(5)], 'min')
  _summary(tmp_path, 'tune', 'w_v', [make_run(9, [0.99, 1.0, 0.6])], 'min')
  _summary(tmp_path, 'seeds', 'w_v', [
    make_run(1, [0.98, 1.0, 0.6, 0.5, 0.5]),
    make_run(2, [0.99, 1.0, 1.0, 0.7, 0.6])] + [
    make_run(s, [0.985, 1.0, 1.0, 1.0, 1.0]) for s in (3, 4, 5)], 'min')
  derived = table.derive(tmp_path, ['w'], {'w_v': 'w'}, seeds=5)
  assert derived['w_v']['first_validation'] == [0.98, 0.99, 0.985, 0.985,
                                                0.985]
  variant_only = {'w_v': derived['w_v']}
  [problem] = table.rule_problems(variant_only, protocol.version('cpu-1.0'))
  # 0.995: the median seed's smoothed best on the plateau.
  assert problem.startswith('w_v: validation target 0.995 is met by the first '
                            'eval of 5 of 5 seeds')
  assert table.rule_problems(variant_only, protocol.version('cpu-0.3')) == []


def _timed_on(processor: str, concurrent_runs: int = 1) -> list:
  return [{'hardware': {'processor': processor, 'cpu_count': 2,
                        'concurrent_runs': concurrent_runs}, 'runs': 5}]


def test_cpu_1_0_budgets_are_timed_on_one_machine_one_run_at_a_time():
  old, new = protocol.version('cpu-0.3'), protocol.version('cpu-1.0')
  same = {'a': _timed_on('AMD EPYC'), 'b': _timed_on('AMD EPYC')}
  assert protocol.timing_problems(new, same) == []
  mixed = {'a': _timed_on('AMD EPYC'), 'b': _timed_on('Intel Xeon'),
           'c': _timed_on('AMD EPYC')}
  [problem] = protocol.timing_problems(new, mixed)
  assert 'timed on 2 machines' in problem
  assert 'AMD EPYC (2 cores): a, c; Intel Xeon (2 cores): b' in problem
  # Runs of one workload on one model (another jax, say) name it once.
  mixed['a'] = _timed_on('AMD EPYC') * 2
  [problem] = protocol.timing_problems(new, mixed)
  assert 'AMD EPYC (2 cores): a, c; Intel Xeon (2 cores): b' in problem
  [problem] = protocol.timing_problems(new, {'a': _timed_on('AMD EPYC', 2)})
  assert problem.startswith('a: its seed reruns were timed 2 at a time')
  # cpu-0.3 made no such rule.
  assert protocol.timing_problems(old, mixed) == []


def test_stage_options_follow_the_version(tmp_path):
  options = stages.StageOptions(tmp_path, str(tmp_path), version='cpu-1.0')
  assert options.summary('seeds', 'w') == (
    tmp_path / 'docs/targets/cpu-1.0/runs/seeds/w.json')
  old = stages.StageOptions(tmp_path, '', version='cpu-0.3')
  assert old.summary('tune', 'w') == tmp_path / 'docs/targets/runs/tune/w.json'
  # By default, the version the suite is at.
  assert stages.StageOptions(tmp_path, '').summary('tune', 'w') == (
    tmp_path / table.summaries_dir() / 'tune' / 'w.json')


def test_five_seeds_and_the_spread_of_their_times(tmp_path):
  _summary(tmp_path, 'tune', 'w', [make_run(7, [0.5, 0.9], trial=1)])
  seeds = [make_run(i, [0.9, 0.94], times=[5.0 + i, 10.0 + i])
           for i in range(1, 4)]
  _summary(tmp_path, 'seeds', 'w', seeds)
  # Three seeds set a cpu-0.3 target, not a cpu-1.0 one.
  assert list(table.derive(tmp_path, ['w'], {}, seeds=3)) == ['w']
  assert table.derive(tmp_path, ['w'], {}, seeds=5) == {}
  seeds += [make_run(4, [0.5, 0.6]), make_run(5, [0.9, 0.96],
                                              times=[30.0, 40.0])]
  _summary(tmp_path, 'seeds', 'w', seeds)
  entry = table.derive(tmp_path, ['w'], {}, seeds=5)['w']
  # Smoothed bests 0.92 x3, 0.55, 0.93: the median 0.92 is reached at the
  # second eval by seeds 1-3 (11, 12, 13 s) and seed 5 (40 s).
  assert entry['time_spread'] == (11.0, 40.0, 4)
  page = table.render({'w': entry}, [], None, protocol.version('cpu-1.0'))
  assert '| 11-40 (4/5) |' in page
  assert '5 new seeds' in page and '30-120 s' in page


def test_the_cpu_1_0_page_is_current():
  assert table.main(REPO, check=True, version='cpu-1.0') == 0


def test_apply_starts_the_next_version_once_it_sets_every_workload(
    tmp_path, monkeypatch, suites_dir):
  from algoperf import registry

  # A variant with a budget of its own (as cpu-0.3's phantom_unet_model_size
  # had): the new version gives it its base's.
  edit_suite_file(suites_dir / 'cpu.json', lambda raw: raw['workloads'][
    'mnist_deep'].update(max_allowed_runtime_sec=99))
  before = registry.suite('cpu')
  monkeypatch.setitem(protocol.VERSIONS, 'cpu-t', protocol.Version(
    'cpu-t', seeds=2, rerun_seed=9, summaries='runs', doc='page.md',
    families=('mnist',), held_out=('mnist_relu',),
    draft_facts={'mnist': {'validation_examples': 700}}))
  root = tmp_path / 'runs'
  for name in ('mnist', 'mnist_relu', 'mnist_deep'):
    _summary(root, 'tune', name, [make_run(7, [0.5, 0.9], trial=1)])
    if name != 'mnist_deep':
      _summary(root, 'seeds', name, [make_run(i, [0.9, 0.95])
                                     for i in (1, 2)])
  with pytest.raises(runs.TargetSettingError,
                     match=f'stays at {before.benchmark_version}'
                     '(.|\n)*mnist_deep: not set yet'):
    table.main(tmp_path, apply_to_code=True, version='cpu-t')
  assert registry.suite('cpu').benchmark_version == before.benchmark_version
  _summary(root, 'seeds', 'mnist_deep', [make_run(i, [0.8, 0.85])
                                         for i in (1, 2)])
  assert table.main(tmp_path, apply_to_code=True, version='cpu-t') == 0
  now = registry.suite('cpu')
  assert (now.benchmark_version, now.base_workloads,
          now.held_out_workloads) == ('cpu-t', ('mnist',), ('mnist_relu',))
  # Smoothed best of both seeds: the mean of the two evals.
  assert now.workloads['mnist'].validation_target_value == 0.925
  assert now.workloads['mnist_deep'].validation_target_value == 0.825
  assert not now.workloads['mnist'].targets_are_provisional
  assert now.workloads['mnist_deep'].max_allowed_runtime_sec == (
    now.workloads['mnist'].max_allowed_runtime_sec)
  assert 'max_allowed_runtime_sec' not in registry.stated_facts('cpu')[
    'mnist_deep']
  # Its standard errors were measured at the old targets: measured again.
  assert now.workloads['mnist'].target_standard_error is None
  # A family it does not set keeps its targets, shown as provisional.
  kept = next(n for n, f in before.workloads.items()
              if not f.targets_are_provisional and not n.startswith('mnist'))
  assert now.workloads[kept].targets_are_provisional
  assert (now.workloads[kept].validation_target_value
          == before.workloads[kept].validation_target_value)
  # The version starts with the facts its runs had in its draft.
  assert now.workloads['mnist_deep'].validation_examples == 700
  old = now.version(before.benchmark_version)
  assert old.workloads == before.workloads
  assert old.base_workloads == before.base_workloads
  with pytest.raises(runs.TargetSettingError, match='at cpu-t already'):
    table.main(tmp_path, apply_to_code=True, version='cpu-t')


def test_a_next_versions_page_lists_the_rules_its_outcomes_break(
    tmp_path, monkeypatch):
  # A protocol in progress may set a budget outside its range: that is a
  # finding for its page (and a refusal for --apply), not a stale page.
  monkeypatch.setitem(protocol.VERSIONS, 'cpu-t', protocol.Version(
    'cpu-t', seeds=2, rerun_seed=9, summaries='docs/runs',
    doc='docs/page.md', families=('mnist',), held_out=('mnist_relu',),
    budget_range=(30, 120)))
  root = tmp_path / 'docs' / 'runs'
  _summary(root, 'tune', 'mnist', [make_run(7, [0.5, 0.9], trial=1)])
  # Both seeds reach the target (0.925) at 20 s: budget 4/3 x 20 -> 27 s.
  _summary(root, 'seeds', 'mnist', [make_run(i, [0.9, 0.95]) for i in (1, 2)])
  broken = 'mnist: budget 27 s outside 30-120 s (protocol cpu-t)'
  assert table.main(tmp_path, version='cpu-t') == 0
  page = tmp_path / 'docs' / 'page.md'
  assert '## Rules not met yet' in page.read_text()
  assert f'- {broken}' in page.read_text()
  assert table.main(tmp_path, check=True, version='cpu-t') == 0
  page.write_text(page.read_text().replace(f'- {broken}\n', ''))
  assert table.main(tmp_path, check=True, version='cpu-t') == 1
  with pytest.raises(runs.TargetSettingError, match=re.escape(broken)):
    table.main(tmp_path, apply_to_code=True, version='cpu-t')


def test_the_current_protocol_is_the_suite_file_version():
  from algoperf import registry

  assert protocol.CURRENT == registry.suite('cpu').benchmark_version


def test_a_superseded_version_is_a_record_that_nothing_reruns(capsys):
  from scripts import set_targets

  order = list(protocol.VERSIONS)
  current = order.index(protocol.CURRENT)
  for i, name in enumerate(order):
    assert protocol.superseded(name) == (i < current)
  for name in order[:current]:
    for argv in (['table', '--protocol', name],
                 ['seeds', '--stage', 'base', '--protocol', name]):
      assert set_targets.main(argv) == 1
      error = capsys.readouterr().err
      assert f'protocol {name} came before' in error
      assert f'--protocol {protocol.CURRENT}' in error


def test_the_current_page_names_only_real_next_versions(monkeypatch):
  current = protocol.version(protocol.CURRENT)
  doc_dir = pathlib.PurePosixPath(current.doc).parent
  assert list(protocol.VERSIONS)[-1] == protocol.CURRENT
  # The last version's page has no "Next" line (an empty list once
  # rendered as "- Next: .").
  assert table._next_version_lines(current, doc_dir) == []
  assert '- Next: .' not in (REPO / current.doc).read_text()
  monkeypatch.setitem(protocol.VERSIONS, 'cpu-t', protocol.Version(
    'cpu-t', seeds=7, rerun_seed=9, summaries='runs',
    doc=f'{doc_dir}/cpu-t.md', budget_range=(30, 120)))
  lines = table._next_version_lines(current, doc_dir)
  assert len(lines) == 1 and 'protocol cpu-t (7 seeds' in lines[0]
  assert '](cpu-t.md)' in lines[0]
  assert table._next_version_lines(protocol.version('cpu-t'), doc_dir) == []


def test_clock_shares_of_a_scored_run_from_the_seed_clocks():
  clocks = [{'submission_seconds': 40.0, 'eval_seconds': 5.0,
             'compile_seconds': 1.0},
            {'submission_seconds': 44.0, 'eval_seconds': 7.5,
             'compile_seconds': 2.0},
            {'submission_seconds': 50.0, 'eval_seconds': 10.0,
             'compile_seconds': 4.0}]
  # Per eval: 0.2, 0.3, 0.4 s (25 evals each) -> median 0.3 s; 20 evals
  # per 60 s budget take 6 s: 6 / 66 of a run. Compilation: 2 s of 60.
  assert protocol.clock_shares(clocks, [25, 25, 25], 60) == {
    'compile_share': round(2 / 60, 4), 'eval_share': round(6 / 66, 4)}
  assert protocol.clock_shares([None, {}], [25, 25], 60) == {}


def test_the_eval_share_counts_one_test_pass_where_seeds_timed_it_apart():
  # 25 evals of 0.4 s, 0.1 s of it the test pass: a scored run's 20 evals
  # read train and validation (0.3 s) and test once (0.1 s): 6.1 s.
  clocks = [{'submission_seconds': 50.0, 'eval_seconds': 10.0,
             'test_eval_seconds': 2.5, 'compile_seconds': 1.0}] * 3
  assert protocol.clock_shares(clocks, [25] * 3, 60)['eval_share'] == (
    round(6.1 / 66.1, 4))
  # Not timed apart (older summaries): a test pass in every eval, 8 s.
  older = [dict(c, test_eval_seconds=None) for c in clocks]
  assert protocol.clock_shares(older, [25] * 3, 60)['eval_share'] == (
    round(8 / 68, 4))


def test_the_next_version_runs_in_a_draft_its_trials_inherit(
    tmp_path, monkeypatch, suites_dir):
  import os
  import subprocess
  import sys

  from algoperf import registry
  from algoperf.target_setting import draft

  monkeypatch.delenv(registry.DRAFT_SUITES_ENV, raising=False)
  shipped = (suites_dir / 'cpu.json').read_text()
  version = protocol.Version(
    'cpu-t', seeds=2, rerun_seed=9, summaries='runs', doc='page.md',
    families=('phantom_unet', 'mnist'), held_out=('phantom_unet_tanh',
                                                  'mnist_relu'),
    draft_facts={'phantom_unet': {'validation_examples': 512,
                                  'test_examples': 384}})
  runs_dir = tmp_path / 'runs'
  assert draft.enter(version, runs_dir) == runs_dir / 'suites'
  suite = registry.suite('cpu')
  assert suite.benchmark_version == 'cpu-t-draft'
  assert suite.base_workloads == ('phantom_unet', 'mnist')
  # The variants read their base's larger splits; others keep their own.
  workload = registry.make_workload('phantom_unet_tanh')
  assert (workload.num_validation_examples,
          workload.num_test_examples) == (512, 384)
  assert registry.make_workload('mnist').num_validation_examples == 750
  # A trial is another process: it reads the draft through the variable.
  child = subprocess.run(
    [sys.executable, '-c', 'from algoperf import registry; '
     'print(registry.suite().benchmark_version)'],
    capture_output=True, text=True, check=True, env=dict(os.environ))
  assert child.stdout.strip() == 'cpu-t-draft'
  # The shipped suite file is untouched.
  assert (suites_dir / 'cpu.json').read_text() == shipped


def test_the_held_out_draw_is_seeded_by_the_version_name():
  variants = {'a': ['a_x', 'a_y', 'a_z'], 'b': ['b_y', 'b_x']}
  draw = protocol.draw_held_out('cpu-t', variants)
  assert draw == protocol.draw_held_out('cpu-t', dict(variants))
  assert draw[0] in variants['a'] and draw[1] in variants['b']
  draws = {protocol.draw_held_out(f'v{i}', variants) for i in range(20)}
  assert len(draws) > 1  # The name decides it; it is a draw.


def test_cpu_1_0_names_its_families_and_their_seeded_held_out_draw():
  from algoperf import registry

  suite = registry.suite('cpu')
  chosen = protocol.version('cpu-1.0')
  assert len(chosen.families) == 8
  assert all(suite.workloads[b].base_name is None for b in chosen.families)
  assert chosen.held_out == protocol.draw_held_out(
    'cpu-1.0', {b: suite.variants(b) for b in chosen.families})
  for name, values in chosen.draft_facts.items():
    assert name in chosen.families and set(values) <= set(
      registry.FACT_FIELDS)
