"""Load a submission by path and check it against the API in one pass.

All problems are collected and raised together as one ``SubmissionError``,
so a researcher fixes everything in one round.
"""

import contextlib
import dataclasses
import hashlib
import importlib.util
import inspect
import os
import pathlib
import sys
import traceback
import types
from collections.abc import Callable

from algoperf.errors import SubmissionError

# Required functions and their positional parameters, in AlgoPerf's order.
REQUIRED = {
  'get_batch_size': ('workload_name',),
  'init_optimizer_state': (
    'workload', 'model_params', 'model_state', 'hyperparameters', 'rng',
  ),
  'update_params': (
    'workload', 'current_param_container', 'current_params_types',
    'model_state', 'hyperparameters', 'batch', 'loss_type',
    'optimizer_state', 'eval_results', 'global_step', 'rng',
  ),
  'data_selection': (
    'workload', 'input_queue', 'optimizer_state', 'current_param_container',
    'model_state', 'hyperparameters', 'global_step', 'rng',
  ),
}
OPTIONAL = {
  'prepare_for_eval': (
    'workload', 'current_param_container', 'current_params_types',
    'model_state', 'hyperparameters', 'loss_type', 'optimizer_state',
    'eval_results', 'global_step', 'rng',
  ),
}
# Extra parameters the harness fills when a signature names them.
TRAIN_STATE_PARAM = 'train_state'
TRAIN_DATA_PARAM = 'train_data'


@dataclasses.dataclass(frozen=True)
class Submission:
  """A loaded, checked submission module and what its signatures ask for."""

  path: pathlib.Path
  module: types.ModuleType
  get_batch_size: Callable
  init_optimizer_state: Callable
  update_params: Callable
  data_selection: Callable
  prepare_for_eval: Callable | None
  wants_train_state: bool
  wants_train_data: bool

  @property
  def name(self) -> str:
    return self.path.parent.name


def resolve_path(path) -> pathlib.Path:
  """A submission is a directory holding submission.py, or the file itself."""
  path = pathlib.Path(path).expanduser().resolve()
  if path.is_dir():
    path = path / 'submission.py'
  if not path.is_file():
    raise SubmissionError(
      f'{path}: no such file. A submission is a directory containing '
      'submission.py (or the path of that file); `algoperf new NAME` creates '
      'one from the template.'
    )
  return path


def _import(path: pathlib.Path) -> types.ModuleType:
  digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
  module_name = f'algoperf_submission_{digest}'
  if module_name in sys.modules:
    return sys.modules[module_name]
  spec = importlib.util.spec_from_file_location(module_name, path)
  module = importlib.util.module_from_spec(spec)
  # Sibling modules of the submission import as top-level names.
  sys.path.insert(0, str(path.parent))
  try:
    with _no_exit(path):
      spec.loader.exec_module(module)
  except SystemExit as e:
    raise SubmissionError(
      f'{path}: importing the submission called sys.exit({e.code!r}) or '
      'os._exit; a submission may not end the process. Remove the call.'
    ) from None
  except SyntaxError as e:
    raise SubmissionError(
      f'{path}:{e.lineno}: syntax error: {e.msg}. Fix the line and retry.'
    ) from e
  except Exception as e:  # Any import-time failure is the submission's.
    last = traceback.extract_tb(e.__traceback__)[-1]
    raise SubmissionError(
      f'{path}: importing the submission raised {type(e).__name__}: {e} '
      f'(at {last.filename}:{last.lineno}). If a package is missing, list it '
      'in requirements.txt next to submission.py and install it.'
    ) from e
  finally:
    sys.path.remove(str(path.parent))
  sys.modules[module_name] = module
  return module


@contextlib.contextmanager
def _no_exit(path):
  """``os._exit`` raises SystemExit while the submission is imported.

  Importing runs the submission's code in the CLI's own process: an
  ``os._exit(0)`` there would end it with a success status.
  """
  original = os._exit

  def refused(code):
    raise SystemExit(code)

  os._exit = refused
  try:
    yield
  finally:
    os._exit = original


def import_module(path) -> types.ModuleType:
  """Imports the submission at ``path`` without checking its API.

  Raises:
    SubmissionError: the file is missing or importing it failed.
  """
  return _import(resolve_path(path))


def _check_signature(path, name, fn, expected) -> list[str]:
  if not callable(fn):
    return [f'{path}: {name} must be a function, found {type(fn).__name__}.']
  try:
    params = inspect.signature(fn).parameters
  except (TypeError, ValueError):
    return []
  if any(p.kind == p.VAR_POSITIONAL for p in params.values()):
    return []
  positional = [
    p.name for p in params.values()
    if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
  ]
  head = positional[: len(expected)]
  if len(head) < len(expected):
    return [
      f'{path}: {name}({", ".join(positional)}) takes {len(positional)} '
      f'positional parameters; expected {len(expected)}: '
      f'{name}({", ".join(expected)}).'
    ]
  extra_required = [
    p.name for p in list(params.values())[len(expected):]
    if p.default is p.empty and p.name not in (TRAIN_STATE_PARAM,
                                               TRAIN_DATA_PARAM)
    and p.kind not in (p.VAR_KEYWORD,)
  ]
  if extra_required:
    return [
      f'{path}: {name} has extra required parameters {extra_required}; '
      f'give them defaults or remove them (expected {name}('
      f'{", ".join(expected)})).'
    ]
  return []


def _names_param(fn, param: str) -> bool:
  try:
    return param in inspect.signature(fn).parameters
  except (TypeError, ValueError):
    return False


def api_problems(path: pathlib.Path, module: types.ModuleType) -> list[str]:
  """Every missing function or wrong signature of ``module``, one per entry."""
  problems = []
  for name, expected in REQUIRED.items():
    fn = getattr(module, name, None)
    if fn is None:
      problems.append(
        f'{path}: missing function {name}({", ".join(expected)}); the '
        'template\'s submission.py (algoperf new NAME) says what it '
        'receives and returns.'
      )
      continue
    problems += _check_signature(path, name, fn, expected)
  prepare = getattr(module, 'prepare_for_eval', None)
  if prepare is not None:
    problems += _check_signature(
      path, 'prepare_for_eval', prepare, OPTIONAL['prepare_for_eval']
    )
  return problems


def load_submission(path) -> Submission:
  """Imports ``path`` and checks every API function.

  Raises:
    SubmissionError: one message listing every problem found.
  """
  path = resolve_path(path)
  module = _import(path)
  problems = api_problems(path, module)
  prepare = getattr(module, 'prepare_for_eval', None)
  if problems:
    numbered = '\n'.join(f'  {i}. {p}' for i, p in enumerate(problems, 1))
    raise SubmissionError(f'The submission breaks the API:\n{numbered}')
  return Submission(
    path=path,
    module=module,
    get_batch_size=module.get_batch_size,
    init_optimizer_state=module.init_optimizer_state,
    update_params=module.update_params,
    data_selection=module.data_selection,
    prepare_for_eval=prepare,
    wants_train_state=_names_param(module.update_params, TRAIN_STATE_PARAM),
    wants_train_data=_names_param(module.data_selection, TRAIN_DATA_PARAM),
  )
