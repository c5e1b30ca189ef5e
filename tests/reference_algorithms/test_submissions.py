"""Every reference algorithm, driven by one table (as optax's alias tests).

One row per directory of reference_algorithms/: the hyperparameters of a
short run and, where the algorithm has one, the check its mechanism must
pass. Each test below runs over every row; training goes through the
harness (``algoperf.runner.run_trial``) on synthetic mnist data, and a
mechanism check records what the submission's own ``update_params`` and
``prepare_for_eval`` return on the way.
"""

import dataclasses
import pathlib

import jax
import numpy as np
import pytest

from algoperf import records
from algoperf import registry
from algoperf import runner
from algoperf import submission as submission_lib
from algoperf import submission_rules
from algoperf import tuning
from algoperf import validation
from tests.conftest import REPO

ROOT = REPO / 'reference_algorithms'
MAX_SUBMISSION_LINES = 250
NUM_STEPS = 8


@dataclasses.dataclass
class Recorded:
  """What the submission returned, copied to the host at every call."""

  steps: list = dataclasses.field(default_factory=list)  # (before, after)
  states: list = dataclasses.field(default_factory=list)  # Optimizer states.
  evals: list = dataclasses.field(default_factory=list)  # Eval params.


def train(name, experiment_dir, hyperparameters=None, max_steps=NUM_STEPS,
          eval_every_steps=None, workload_name='mnist', double_eval=False):
  """A short trial through run_trial; (result, eval rows, Recorded).

  Evals come after step 1 and every ``eval_every_steps`` (default: only at
  the end). ``double_eval`` makes every eval call prepare_for_eval twice,
  the second time on what the first returned.
  """
  workload = registry.make_workload(workload_name)
  workload.use_synthetic_data(16)  # One mnist batch: the loss is comparable.
  # Warmup and decay fit in a short run; compiling is not over budget.
  workload.override_facts(step_hint=40, max_allowed_runtime_sec=3600)
  submission = submission_lib.load_submission(ROOT / name)
  recorded = Recorded()

  def update_params(workload, params, *args, **kwargs):
    before = jax.device_get(params)  # The train step donates its inputs.
    out = submission.update_params(workload, params, *args, **kwargs)
    recorded.steps.append((before, jax.device_get(out[1])))
    recorded.states.append(jax.device_get(out[0][0]))
    return out

  def prepare_for_eval(workload, params, types, model_state, hp, loss_type,
                       optimizer_state, *rest):
    out = submission.prepare_for_eval(workload, params, types, model_state,
                                      hp, loss_type, optimizer_state, *rest)
    if double_eval:
      out = submission.prepare_for_eval(workload, out[1], types, out[2], hp,
                                        loss_type, out[0], *rest)
    recorded.evals.append(jax.device_get(out[1]))
    return out

  wrapped = dataclasses.replace(submission, update_params=update_params)
  if submission.prepare_for_eval is not None:
    wrapped = dataclasses.replace(wrapped, prepare_for_eval=prepare_for_eval)
  config = runner.RunConfig(
    experiment_dir=str(experiment_dir), experiment_name=name,
    hyperparameters=hyperparameters, max_steps=max_steps, progress=False,
    eval_every_steps=eval_every_steps or max_steps,
    checkpoint_every_sec=None, stop_at_target=False)
  result = runner.run_trial(workload, wrapped, config)
  rows = records.read_rows_csv(
    pathlib.Path(result.trial_dir) / records.EVAL_MEASUREMENTS)
  return result, rows, recorded


def _leaves(tree):
  return [np.asarray(x) for x in jax.tree.leaves(tree)]


# --- What each mechanism must show. ---


def every_coordinate_moves_by_the_learning_rate(row, tmp_path):
  """Lion's update is a sign: each coordinate moves by exactly lr."""
  recorded = train(row['name'], tmp_path, row['hyperparameters'],
                   max_steps=2)[2]
  for before, after in recorded.steps:
    for old, new in zip(_leaves(before), _leaves(after)):
      np.testing.assert_allclose(np.abs(new - old),
                                 row['hyperparameters']['learning_rate'],
                                 rtol=1e-3)


def grad_clip_bounds_the_first_step(row, tmp_path):
  """No step is longer than lr * grad_clip; unclipped, the first is."""
  hp = row['hyperparameters']
  norms = {}
  for clip in (hp['grad_clip'], None):
    recorded = train(row['name'], tmp_path / str(clip),
                     {**hp, 'grad_clip': clip}, max_steps=1)[2]
    before, after = recorded.steps[0]
    step = jax.tree.leaves(jax.tree.map(np.subtract, after, before))
    norms[clip] = float(np.sqrt(sum(np.sum(d**2) for d in step)))
  bound = hp['learning_rate'] * hp['grad_clip']
  assert norms[hp['grad_clip']] <= bound * (1 + 1e-4), norms
  assert norms[None] > 10 * bound, f'the clip does not bind: {norms}'


def eval_params_are_the_x_sequence_and_training_resumes_at_y(row, tmp_path):
  """Schedule-Free evaluates x_T, the average of z_1..z_T weighted by
  max(lr_1..lr_t)^2 (optax's weight_lr_power = 2), and trains on at y: evals
  in between (two in a row included) change nothing."""
  hp = row['hyperparameters']
  _, _, plain = train(row['name'], tmp_path / 'plain', hp, max_steps=6)
  weights = [float(state.opt_state.max_lr) ** 2 for state in plain.states]
  zs = [state.opt_state.z for state in plain.states]
  x = jax.tree.map(lambda *z: sum(w * zi for w, zi in zip(weights, z))
                   / sum(weights), *zs)
  for expected, got in zip(_leaves(x), _leaves(plain.evals[-1])):
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)
  y = plain.steps[-1][1]
  assert any(not np.allclose(a, b)
             for a, b in zip(_leaves(y), _leaves(plain.evals[-1])))
  _, _, interrupted = train(row['name'], tmp_path / 'evals', hp, max_steps=6,
                            eval_every_steps=2, double_eval=True)
  assert len(interrupted.evals) > len(plain.evals)
  for a, b in zip(_leaves(plain.evals[-1]), _leaves(interrupted.evals[-1])):
    np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-7)


def the_hessian_is_estimated_every_k_steps(row, tmp_path):
  """Sophia refreshes its Hessian estimate nu at steps 0, k, 2k, ..."""
  recorded = train(row['name'], tmp_path, row['hyperparameters'],
                   max_steps=7)[2]
  nus = [_leaves(state[0].nu) for state in recorded.states]
  changed_at = [0] + [step for step in range(1, len(nus)) if any(
    not np.array_equal(a, b) for a, b in zip(nus[step - 1], nus[step]))]
  k = row['hyperparameters']['hessian_update_interval']
  assert changed_at == list(range(0, len(nus), k)), changed_at


# --- The table. ---

# One row per algorithm: its name (the directory), the hyperparameters of
# its mechanism's short run, and the check that run must pass ('shows').
_CONSTANT = {'schedule': 'constant', 'warmup_factor': 0.0}
ALGORITHMS = (
  {'name': 'adadagrad'},
  {'name': 'adamw'},
  # AlgoPerf's published self-tuning point, unedited: no search space.
  {'name': 'algoperf_self_tuning_nadamw', 'ruleset': 'self'},
  {'name': 'ghost_bn'},
  {'name': 'linear_decay_nadamw'},
  {'name': 'lion', 'shows': every_coordinate_moves_by_the_learning_rate,
   'hyperparameters': {**_CONSTANT, 'learning_rate': 1e-3,
                       'weight_decay': 0.0, 'dropout_rate': 0.0}},
  {'name': 'momentum', 'shows': grad_clip_bounds_the_first_step,
   'hyperparameters': {**_CONSTANT, 'learning_rate': 0.5,
                       'weight_decay': 0.0, 'grad_clip': 1e-3}},
  {'name': 'nadamw'},
  {'name': 'nesterov'},
  {'name': 'refined'},
  {'name': 'rs2'},
  {'name': 'schedule_free_adamw',
   'shows': eval_params_are_the_x_sequence_and_training_resumes_at_y,
   'hyperparameters': {'warmup_factor': 0.1}},
  {'name': 'sophia', 'shows': the_hessian_is_estimated_every_k_steps,
   'hyperparameters': {'hessian_update_interval': 3}},
)
NAMES = [row['name'] for row in ALGORITHMS]
MECHANISMS = [row for row in ALGORITHMS if 'shows' in row]
RULESETS = {row['name']: row.get('ruleset', 'external') for row in ALGORITHMS}
TUNABLE = [name for name in NAMES if RULESETS[name] == 'external']


def _load(name):
  return submission_lib.load_submission(ROOT / name)


def test_the_table_has_a_row_for_every_algorithm():
  directories = sorted(p.parent.name for p in ROOT.glob('*/submission.py'))
  assert NAMES == directories, (
    'every directory of reference_algorithms/ with a submission.py needs a '
    'row in ALGORITHMS (in name order), and every row a directory')


@pytest.mark.parametrize('name', NAMES)
def test_the_directory_is_a_complete_valid_submission(name):
  directory = ROOT / name
  problems, _ = validation.folder_checks(directory, RULESETS[name])
  problems += submission_rules.check_source(directory / 'submission.py')
  assert not problems, problems
  module = _load(name).module
  defaults = getattr(module, 'SELF_TUNING_DEFAULTS', None) or getattr(
    module, 'DEFAULTS', None)
  assert defaults, (f'{name}: no DEFAULTS; a reference algorithm states the '
                    'hyperparameters it runs with when self-tuning')
  if RULESETS[name] == 'self':
    assert not (directory / 'tuning_search_space.json').exists(), (
      f'{name} ignores its hyperparameters: a search space would mislead')
    space = []
  else:
    space = tuning.load_search_space(directory / 'tuning_search_space.json')
  for point in space if isinstance(space, list) else [space]:
    assert not set(point) - set(defaults), (
      f'{name}: the search space names {set(point) - set(defaults)}, which '
      'the submission has no default for')
  assert (directory / 'README.md').read_text().strip()
  lines = (directory / 'submission.py').read_text().count('\n')
  assert lines < MAX_SUBMISSION_LINES, f'{name}: {lines} lines'


@pytest.mark.parametrize('name', NAMES)
def test_batch_sizes_are_algoperf_s(name):
  submission = _load(name)
  assert submission.get_batch_size('mnist') == 16
  assert submission.get_batch_size('imagenet_resnet') == 1024
  with pytest.raises(ValueError, match='no_such_workload'):
    submission.get_batch_size('no_such_workload')


@pytest.mark.parametrize('name', NAMES)
def test_self_tuning_training_lowers_the_loss_on_mnist(name, tmp_path):
  result, rows, _ = train(name, tmp_path)
  assert result.status == records.MAX_STEPS, result.message
  assert [row['global_step'] for row in rows] == [1, NUM_STEPS]
  before, after = rows[0]['train/loss'], rows[-1]['train/loss']
  assert after < before, f'{name}: train loss {before:.4f} -> {after:.4f}'


@pytest.mark.parametrize('name', TUNABLE)
def test_the_first_search_space_point_trains(name, tmp_path):
  space = tuning.load_search_space(ROOT / name / 'tuning_search_space.json')
  point = tuning.trial_points(space, 1, seed=0)[0]
  result, rows, _ = train(name, tmp_path, point, max_steps=2)
  # Diverged (a non-finite loss) or a changed params tree would stop it.
  assert result.status == records.MAX_STEPS, result.message
  assert rows[-1]['global_step'] == 2


@pytest.mark.parametrize('row', MECHANISMS, ids=[r['name'] for r in MECHANISMS])
def test_the_mechanism_shows(row, tmp_path):
  row['shows'](row, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize('workload_name', [
  w for w in registry.suite().base_workloads if w != 'mnist'])
@pytest.mark.parametrize('name', NAMES)
def test_one_step_on_every_cpu_suite_workload(name, workload_name, tmp_path):
  result, rows, _ = train(name, tmp_path, max_steps=1,
                          workload_name=workload_name)
  assert result.status == records.MAX_STEPS, result.message
  assert rows[-1]['global_step'] == 1


def test_the_algoperf_point_is_used_whatever_is_passed(tmp_path):
  """AlgoPerf's self-tuning file ignores hyperparameters; so does ours:
  the same seed with and without a (wild) point trains the same."""
  name = 'algoperf_self_tuning_nadamw'
  wild = {'learning_rate': 10.0, 'warmup_factor': 0.0}
  _, _, own = train(name, tmp_path / 'none', None, max_steps=2)
  _, _, given = train(name, tmp_path / 'wild', wild, max_steps=2)
  for a, b in zip(_leaves(own.steps[-1][1]), _leaves(given.steps[-1][1])):
    np.testing.assert_array_equal(a, b)
  module = _load(name).module
  from reference_algorithms.common import algoperf_self_tuning
  assert {k: module.DEFAULTS[k] for k in algoperf_self_tuning.HPARAMS} == (
    algoperf_self_tuning.HPARAMS)
  assert module.DEFAULTS['step_hint_factor'] == 1.0
  assert module.DEFAULTS['grad_clip'] is None
