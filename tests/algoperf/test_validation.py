"""`algoperf validate` gives each broken fixture its precise message.

The fixtures live in tests/fixtures/broken/<case>/ (see its README). Many
share one validator subprocess (validate_many), so a case costs one import
and a few mnist steps, not a process start.
"""

import subprocess
import sys

import pytest

from algoperf import submission_rules
from algoperf import validation
from algoperf import validation_worker
from tests.conftest import FIXTURES
from tests.conftest import REPO

BROKEN = FIXTURES / 'broken'
SGD = FIXTURES / 'sgd'
EAGER_OPS = FIXTURES / 'eager_ops_every_third_step'
UNJITTED = FIXTURES / 'unjitted_sgd'
REFERENCE = REPO / 'reference_algorithms'
CALL_TIMEOUT_S = 30

# case -> (ruleset, fragment the validator's problem list must contain).
# Found without running the module (files, source rules, import, API).
STATIC_CASES = {
  'syntax_error': ('self', 'syntax error'),
  'missing_function': ('self', 'missing function data_selection('),
  'wrong_signature': ('self', 'init_optimizer_state(workload, model_params, '
                      'model_state, hyperparameters) takes 4 positional'),
  'extra_required_parameter': (
    'self', "update_params has extra required parameters ['momentum']"),
  'not_a_function': ('self', 'get_batch_size must be a function, found int'),
  'missing_package': (
    'self', "raised ModuleNotFoundError: No module named "
    "'algoperf_no_such_package'"),
  'raises_at_import': (
    'self', 'importing the submission raised RuntimeError: configuration'),
  'branches_on_workload_name': ('self', 'update_params reads workload.name'),
  'branches_on_workload_class': ('self', 'update_params calls type(workload)'),
  'missing_search_space': ('external', 'tuning_search_space.json: missing'),
  'bad_search_space': ('external', "hyperparameter 'learning_rate': min 0.1 "
                       '> max 0.001'),
  'bad_submission_info': ('self', "missing field 'authors'"),
  'bad_requirements': ('self', 'algoperf-no-such-package is not installed'),
}
# Found by training a few mnist steps in the subprocess.
RUNTIME_CASES = {
  'returns_none': ('update_params (workload mnist, step 0) returned NoneType;'
                   ' expected a tuple (optimizer_state, params, model_state)'),
  'returns_two_values': 'returned tuple of length 2; expected a tuple',
  'wrong_pytree': ('returned params with a different pytree structure: '
                   'missing ["[\'Dense_out\'][\'bias\']"'),
  'wrong_dtype': 'dtype float16; expected shape (128,) and dtype float32',
  'wrong_shape': 'with shape (1, 128) and dtype float32; expected shape '
                 '(128,)',
  'wrong_model_state': ('returned model_state with a different pytree '
                        'structure'),
  'mutates_batch': ("update_params (workload mnist, step 0) mutated its "
                    "input batch (replaced or changed in place ['inputs'])"),
  'nan_from_step_1': ("returned non-finite values (NaN or Inf) in "
                      "params['Dense_0']"),
  'infinite_loop': ('update_params (workload mnist, step 0) did not return '
                    f'within {CALL_TIMEOUT_S} s'),
  'huge_memory': ('init_optimizer_state (workload mnist) raised MemoryError: '
                  'Unable to allocate 1.00 PiB'),
  'writes_outside': 'init_optimizer_state (workload mnist) tried to write',
  'raises_in_data_selection': ('data_selection (workload mnist, step 0) '
                               'raised ValueError: no more data'),
  'raises_in_init_optimizer_state': ("init_optimizer_state (workload mnist) "
                                     "raised KeyError: 'learning_rate'"),
  'data_selection_returns_none': ('data_selection (workload mnist, step 0) '
                                  'returned NoneType; expected a dict'),
  'data_selection_wrong_dtype': ("returned batch['inputs'] with per-example "
                                 'shape (28, 28) and dtype float16'),
  'batch_size_not_divisible': ("get_batch_size('mnist') returned 12, not a "
                               'positive multiple of the 8 devices'),
  'batch_size_not_int': ("get_batch_size('mnist') returned 16.0 (float); "
                         'expected a positive int'),
  'reads_eval_data': ("data_selection calls _build_input_queue(..., "
                      "'validation', ...)"),
  'reads_eval_data_hidden': ("read evaluation data (workload.split_arrays of "
                             "split 'validation')"),
  'recompiles_every_step': ('update_params (workload mnist) compiled new '
                            'XLA programs at every step from 2 to 5 '
                            '(jit(<lambda>))'),
  # prepare_for_eval is checked after the last of the checker's steps.
  'prepare_for_eval_wrong_return': ('prepare_for_eval (workload mnist, step '
                                    f'{validation_worker.NUM_STEPS}) returned '
                                    'dict; expected a tuple'),
  'exits_process': 'the validation process exited with code 7',
}
# A representative few run in the default (fast) suite.
FAST_RUNTIME = ('returns_none', 'wrong_pytree', 'mutates_batch',
                'batch_size_not_divisible', 'reads_eval_data_hidden',
                'recompiles_every_step')


def test_every_fixture_is_in_a_table():
  cases = {p.name for p in BROKEN.iterdir() if (p / 'submission.py').exists()}
  assert len(cases) >= 25
  assert cases == set(STATIC_CASES) | set(RUNTIME_CASES)


def _validate(cases, ruleset):
  reports = validation.validate_many(
    [BROKEN / c for c in cases] + [SGD], ruleset, workloads=['mnist'],
    call_timeout_s=CALL_TIMEOUT_S)
  *broken, control = reports
  assert control.ok, control.format()  # The unbroken base passes.
  return {case: report for case, report in zip(cases, broken)}


def _assert_flagged(report, fragment):
  assert not report.ok
  text = report.format()
  assert 'FAILED' in text and '  1. ' in text
  assert fragment in text, text


@pytest.fixture(scope='module')
def static_reports():
  by_ruleset = {}
  for case, (ruleset, _) in STATIC_CASES.items():
    by_ruleset.setdefault(ruleset, []).append(case)
  reports = {}
  for ruleset, cases in by_ruleset.items():
    # No workload steps: these are found before any training.
    reports.update(zip(cases, validation.validate_many(
      [BROKEN / c for c in cases], ruleset, workloads=[])))
  return reports


@pytest.mark.parametrize('case', sorted(STATIC_CASES))
def test_static_case_message(case, static_reports):
  _assert_flagged(static_reports[case], STATIC_CASES[case][1])


def test_fast_runtime_cases():
  reports = _validate(FAST_RUNTIME, 'self')
  for case in FAST_RUNTIME:
    _assert_flagged(reports[case], RUNTIME_CASES[case])


@pytest.fixture(scope='module')
def runtime_reports():
  return _validate(sorted(RUNTIME_CASES), 'self')


@pytest.mark.slow
@pytest.mark.parametrize('case', sorted(RUNTIME_CASES))
def test_runtime_case_message(case, runtime_reports):
  _assert_flagged(runtime_reports[case], RUNTIME_CASES[case])


@pytest.mark.slow
def test_blocked_write_left_no_file(runtime_reports):
  assert not (BROKEN / 'escaped.txt').exists()
  assert not runtime_reports['writes_outside'].ok


def test_compiles_in_a_few_later_steps_are_a_warning_not_a_problem():
  report = validation.validate(EAGER_OPS, 'self', workloads=['mnist'],
                               call_timeout_s=CALL_TIMEOUT_S)
  assert report.ok, report.format()
  assert len(report.warnings) == 1, report.warnings
  assert ('update_params (workload mnist) compiled' in report.warnings[0]
          and 'at step(s) 3, after the first 2' in report.warnings[0])
  assert 'jit(norm)' in report.warnings[0]
  assert 'WARNING: ' in report.format() and 'SUCCESS' in report.format()


@pytest.mark.slow
def test_a_collective_deadlock_of_the_simulated_devices_is_judged_by_a_run():
  """Un-jitted SGD deadlocks XLA's CPU collectives on 8 simulated devices
  (shakespeare_lm, 2 cores); on the machine's own devices it trains."""
  report = validation.validate(UNJITTED, 'self',
                               workloads=['shakespeare_lm', 'mnist'])
  assert report.ok, report.format()
  assert any('XLA aborted the check' in w and 'passed.' in w
             for w in report.warnings), report.format()


def test_folder_checks_accept_what_algoperf_publishes(tmp_path):
  """AlgoPerf's spelling of the ruleset, empty authors, another version of
  a pinned package than the one installed: notes, not problems."""
  (tmp_path / 'submission.py').write_text((SGD / 'submission.py').read_text())
  (tmp_path / 'submission_info.yml').write_text(
    'submission_name: NadamW baseline\nauthors: ""\naffiliations: ""\n'
    'ruleset: self-tuning\nframework: JAX\ndescription: Baseline.\n')
  (tmp_path / 'requirements.txt').write_text('optax==0.0.1\n')
  problems, notes = validation.folder_checks(tmp_path, 'self')
  assert problems == []
  assert any("field 'authors' is empty" in n for n in notes), notes
  assert any('names optax==0.0.1, found optax' in n for n in notes), notes
  problems, _ = validation.folder_checks(tmp_path, 'external')
  assert any("ruleset is 'self-tuning' but the validation ran with "
             '--ruleset external' in p for p in problems), problems


def test_source_rules_allow_get_batch_size_to_use_the_name(tmp_path):
  path = tmp_path / 'submission.py'
  path.write_text(
    'def get_batch_size(workload_name):\n'
    "  return 32 if workload_name == 'mnist' else 64\n"
    'def update_params(workload, *args):\n'
    '  return workload.param_shapes\n')
  assert submission_rules.check_source(path) == []


def test_folder_checks_accept_the_template():
  from algoperf.commands import new

  problems, notes = validation.folder_checks(
    new.TEMPLATE, 'external')
  assert problems == [] and notes == []


def test_cli_prints_success_and_numbered_problems():
  def validate(path):
    return subprocess.run(
      [sys.executable, '-m', 'algoperf.cli', 'validate', str(path),
       '--ruleset', 'self', '--workloads', 'mnist'],
      capture_output=True, text=True, cwd=REPO, timeout=600, check=False)

  good = validate(SGD)
  assert good.returncode == 0, good.stdout + good.stderr
  assert 'SUCCESS' in good.stdout
  # Progress on stderr, as plain lines (not a terminal): the checker's
  # start, each workload's set-up and its first step's compilation as its
  # own phase, each line with the time since the start.
  lines = good.stderr.splitlines()
  for phase in ('validate sgd: starting the checker',
                'validate sgd: importing', 'validate sgd: mnist: setting up',
                'validate sgd: mnist: compiling'):
    assert any(phase in line for line in lines), (phase, good.stderr)
  assert all(line.startswith('[') and ' s] validate sgd: ' in line
             for line in lines if 'sgd' in line), good.stderr
  bad = validate(BROKEN / 'not_a_function')
  assert bad.returncode == 3  # exit_codes.SUBMISSION
  assert 'FAILED' in bad.stdout and '  1. ' in bad.stdout
  assert 'get_batch_size must be a function' in bad.stdout


@pytest.mark.slow
def test_reference_algorithms_and_template_pass_on_the_cpu_suite(tmp_path):
  """Every CPU-suite workload, as `algoperf validate` runs by default."""
  from algoperf.commands import new

  template = new.create('mine', tmp_path)
  directories = [REFERENCE / 'nadamw', REFERENCE / 'schedule_free_adamw',
                 REFERENCE / 'sophia', template]
  for report in validation.validate_many(directories, 'external'):
    assert report.ok, report.format()
