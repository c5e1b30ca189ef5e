"""The suite files are the one home of workload facts; every consumer agrees."""

import inspect

import pytest

from algoperf import base_workload
from algoperf import registry
from algoperf import workload_info
from algoperf.errors import WorkloadError
from scoring import workload_targets
from tests.conftest import FIXTURES
from tests.conftest import edit_suite_file


def test_no_workload_class_states_a_fact_of_its_own():
  """A class attribute would shadow the suite file's value."""
  for name in registry.names('cpu'):
    cls = registry.get_workload_class(name)
    assert cls.name == name
    for field in registry.FACT_FIELDS + ('base_name',):
      if hasattr(base_workload.ArrayWorkload, field):
        assert inspect.getattr_static(cls, field) is inspect.getattr_static(
          base_workload.ArrayWorkload, field), f'{name}.{field}'


@pytest.mark.parametrize('name', registry.names('cpu'))
def test_every_consumer_reads_the_same_facts(name):
  facts = registry.facts(name)
  workload = registry.make_workload(name)
  for field in registry.REQUIRED_TO_RUN:
    assert getattr(workload, field) == getattr(facts, field), field
  assert workload.base_name == facts.base_name
  row = workload_info.describe(name)
  assert (row['val target'], row['budget s'], row['step hint']) == (
    facts.validation_target_value, facts.max_allowed_runtime_sec,
    facts.step_hint)
  scored = workload_targets.load_targets('cpu_suite').workloads[name]
  assert scored.validation_target == facts.validation_target_value
  assert scored.direction == facts.metric_direction
  assert scored.step_hint == facts.step_hint
  assert scored.max_allowed_runtime_sec == facts.max_allowed_runtime_sec


def test_a_variant_inherits_what_it_does_not_state():
  base, variant = registry.facts('mnist'), registry.facts('mnist_relu')
  assert variant.base_name == 'mnist'
  assert variant.step_hint == base.step_hint
  assert variant.max_allowed_runtime_sec == base.max_allowed_runtime_sec
  assert variant.validation_target_value != base.validation_target_value


@pytest.mark.parametrize('suite_name', ['cpu', 'algoperf'])
def test_the_listing_opens_with_the_scored_set_family_by_family(suite_name):
  suite = registry.suite(suite_name)
  order = workload_info.listing_order(suite)
  assert sorted(order) == sorted(registry.names(suite_name))
  bases = [name for name in order if suite.workloads[name].base_name is None]
  assert bases[:len(suite.base_workloads)] == list(suite.base_workloads)
  for i, name in enumerate(order):
    base = suite.workloads[name].base_name
    if base is not None:
      # A variant follows its base or a sibling.
      assert base in (order[i - 1], suite.workloads[order[i - 1]].base_name)


def test_the_scored_set_line_names_what_a_study_runs():
  cpu = registry.suite('cpu')
  line = workload_info.scored_set_line(cpu)
  assert cpu.benchmark_version in line
  for name in cpu.base_workloads + cpu.held_out_workloads:
    assert name in line
  unscored = [b for b in cpu.families if b not in cpu.base_workloads]
  scored_part, _, unscored_part = line.partition('unscored')
  for name in unscored:
    assert name in unscored_part and f'{name},' not in scored_part
  assert 'no held-out variants' in workload_info.scored_set_line(
    registry.suite('algoperf').version('0.6'))


def test_suites_name_their_bases_and_held_out_draw():
  cpu = registry.suite('cpu')
  assert cpu.benchmark_version.startswith('cpu-')
  assert all(registry.facts(b).base_name is None for b in cpu.base_workloads)
  for base in cpu.base_workloads:
    assert registry.facts(cpu.held_out_variant(base)).base_name == base
  algoperf = registry.suite('algoperf')
  assert len(algoperf.base_workloads) == 8
  assert algoperf.held_out_workloads == ()  # v0.6 rules: none.
  assert len(algoperf.version('0.5').held_out_workloads) == 6


def test_a_facts_only_workload_is_not_runnable():
  with pytest.raises(WorkloadError, match='no implementation here'):
    registry.get_workload_class('cifar')


def test_unknown_name_suggests_the_closest():
  with pytest.raises(WorkloadError, match="Did you mean 'mnist_relu'"):
    registry.facts('mnist_rleu')


def test_update_facts_writes_only_what_changed(suites_dir):
  path = suites_dir / 'cpu.json'
  before = path.read_text()
  registry.update_facts('cpu', {'mnist': {'step_hint': 2667}})
  assert path.read_text() == before  # Same value: byte-identical.
  registry.update_facts('cpu', {'mnist': {'step_hint': 3000}})
  assert registry.facts('mnist').step_hint == 3000
  assert registry.facts('mnist_relu').step_hint == 3000  # Inherited.
  with pytest.raises(WorkloadError, match='not facts'):
    registry.update_facts('cpu', {'mnist': {'learning_rate': 1}})


def test_a_runnable_workload_without_a_fact_is_refused(suites_dir):
  edit_suite_file(suites_dir / 'cpu.json',
        lambda raw: raw['workloads']['mnist'].pop('step_hint'))
  with pytest.raises(WorkloadError, match='mnist has an "import" but no '
                     'step_hint'):
    registry.suites()


def test_an_unknown_field_names_the_file_and_entry(suites_dir):
  edit_suite_file(suites_dir / 'cpu.json',
        lambda raw: raw['workloads']['mnist'].update(budget=3))
  with pytest.raises(WorkloadError, match=r"cpu.json: workloads.mnist has "
                     r"unknown field\(s\) \['budget'\]"):
    registry.suites()


def test_an_unknown_test_eval_rule_names_the_file_and_the_choices(
    suites_dir):
  edit_suite_file(suites_dir / 'cpu.json',
                  lambda raw: raw.update(test_evals='sometimes'))
  with pytest.raises(WorkloadError, match=r'cpu.json: "test_evals" is '
                     r"'sometimes'; use one of every_eval, "
                     'from_validation_target'):
    registry.suites()


def test_an_earlier_version_applies_its_overrides(suites_dir):
  def add_version(raw):
    raw['earlier_versions'] = {'0.4': {
      'held_out_workloads': ['wmt_glu_tanh'],
      'workloads': {'wmt': {'step_hint': 100, 'validation_target_value': 31},
                    'wmt_glu_tanh': {'validation_target_value': 30}}}}
  edit_suite_file(suites_dir / 'algoperf.json', add_version)
  suite = registry.suite('algoperf')
  assert suite.earlier_versions == ('0.4',)
  old = suite.version('0.4')
  assert old.benchmark_version == '0.4'
  assert old.workloads['wmt'].step_hint == 100
  assert old.workloads['wmt_glu_tanh'].step_hint == 100  # From its base.
  assert old.held_out_workloads == ('wmt_glu_tanh',)
  assert suite.workloads['wmt'].step_hint != 100  # Current: untouched.
  document = registry.targets_document('algoperf', rules='v0.5',
                                       benchmark_version='0.4')
  assert document['workloads']['wmt']['validation_target_value'] == 31
  with pytest.raises(WorkloadError, match='no benchmark version'):
    suite.version('9.9')


def _all_facts(suite):
  return {name: facts for name, facts in suite.workloads.items()}


def test_a_new_version_keeps_the_old_one_exactly_for_scoring(suites_dir):
  before = registry.suite('cpu')
  old = before.benchmark_version
  registry.start_version(
    'cpu', 'cpu-9', ['mnist', 'digits_resnet'],
    ['mnist_relu', 'digits_resnet_silu'],
    {'mnist': {'validation_target_value': 0.5,
               'max_allowed_runtime_sec': 40},
     'mnist_relu': {'validation_target_value': 0.6},
     'digits_resnet': {'target_standard_error': None}})
  now = registry.suite('cpu')
  assert now.benchmark_version == 'cpu-9'
  assert now.base_workloads == ('mnist', 'digits_resnet')
  assert now.workloads['mnist'].validation_target_value == 0.5
  # A variant that does not state the budget inherits the new one ...
  assert now.workloads['mnist_deep'].max_allowed_runtime_sec == 40
  assert now.workloads['digits_resnet'].target_standard_error is None
  # ... and the earlier version reads exactly as the suite did.
  at_old = now.version(old)
  assert _all_facts(at_old) == _all_facts(before)
  assert at_old.base_workloads == before.base_workloads
  assert at_old.held_out_workloads == before.held_out_workloads
  # A second new version keeps both earlier ones as they were.
  first = _all_facts(now)
  registry.start_version('cpu', 'cpu-10', ['mnist'], ['mnist_deep'],
                         {'mnist': {'validation_target_value': 0.7,
                                    'step_hint': 9}})
  latest = registry.suite('cpu')
  assert latest.earlier_versions == (*before.earlier_versions, old, 'cpu-9')
  assert _all_facts(latest.version(old)) == _all_facts(before)
  assert _all_facts(latest.version('cpu-9')) == first
  assert latest.workloads['mnist_relu'].step_hint == 9
  with pytest.raises(WorkloadError, match="'cpu-9' exists already"):
    registry.start_version('cpu', 'cpu-9', ['mnist'], [], {})
  with pytest.raises(WorkloadError, match="'mnist' is not a variant"):
    registry.start_version('cpu', 'cpu-11', ['mnist'], [], {},
                           inherit={'mnist': ['step_hint']})
  assert registry.suite('cpu').benchmark_version == 'cpu-10'  # Unchanged.


def test_v06_rules_list_no_held_out_workloads():
  assert registry.targets_document('cpu')['held_out_workloads'] == []
  base = registry.suite('cpu').base_workloads[0]
  held_out = registry.suite('cpu').held_out_variant(base)
  v05 = registry.targets_document('cpu', rules='v0.5', workloads=[base])
  assert v05['held_out_workloads'] == [held_out]
  assert list(v05['workloads']) == [base, held_out]


_GELU_VARIANT = '''
import flax.linen as nn
from workloads.mnist.workload import MnistWorkload


class MnistGeluWorkload(MnistWorkload):
  name = 'mnist_gelu'
  activation = staticmethod(nn.gelu)
'''


def test_adding_a_variant_touches_its_package_and_the_facts_only(
    suites_dir, tmp_path, monkeypatch):
  """docs/design.md's worked example, on a copy of the suite file."""
  from algoperf import runner
  from algoperf import submission as submission_lib

  package = tmp_path / 'gelu_variant'
  package.mkdir()
  (package / 'workload.py').write_text(_GELU_VARIANT)
  monkeypatch.syspath_prepend(str(tmp_path))
  edit_suite_file(suites_dir / 'cpu.json', lambda raw: raw['workloads'].update(
    mnist_gelu={'import': 'gelu_variant.workload:MnistGeluWorkload',
                'base_name': 'mnist', 'validation_target_value': 0.94,
                'test_target_value': 0.94, 'targets_are_provisional': True}))
  assert 'mnist_gelu' in registry.names()
  assert workload_info.describe('mnist_gelu')['budget s'] == (
    registry.facts('mnist').max_allowed_runtime_sec)
  scored = workload_targets.load_targets('cpu_suite').workloads['mnist_gelu']
  assert scored.base_name == 'mnist' and scored.validation_target == 0.94
  workload = registry.make_workload('mnist_gelu', max_allowed_runtime_sec=1e9)
  workload.use_synthetic_data(64)
  config = runner.RunConfig(experiment_dir=str(tmp_path / 'exp'),
                            experiment_name='gelu', max_steps=2,
                            progress=False)
  result = runner.run_trial(
    workload, submission_lib.load_submission(FIXTURES / 'sgd'), config)
  assert result.status == 'max_steps' and result.global_step == 2
  assert 'validation/accuracy' in result.last_eval


def test_a_registered_module_that_does_not_exist_is_named(suites_dir):
  edit_suite_file(suites_dir / 'cpu.json', lambda raw: raw['workloads'].update(
    mnist_ghost={'import': 'workloads.ghost.workload:GhostWorkload',
                 'base_name': 'mnist', 'validation_target_value': 0.9,
                 'test_target_value': 0.9}))
  with pytest.raises(WorkloadError, match=r"'mnist_ghost' is registered in "
                     r"cpu.json as 'workloads.ghost.workload:GhostWorkload'"):
    registry.get_workload_class('mnist_ghost')
  edit_suite_file(suites_dir / 'cpu.json', lambda raw: raw['workloads'].update(
    mnist_ghost={'import': 'workloads.mnist.workload:GhostWorkload',
                 'base_name': 'mnist', 'validation_target_value': 0.9,
                 'test_target_value': 0.9}))
  with pytest.raises(WorkloadError, match="no class 'GhostWorkload'"):
    registry.get_workload_class('mnist_ghost')
