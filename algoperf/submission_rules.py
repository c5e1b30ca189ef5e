"""Rule breaks that can be read reliably from a submission's source (AST).

Two AlgoPerf rules have an unambiguous syntactic form:

- a submission may not branch on *which* workload it trains, except in
  ``get_batch_size(workload_name)``: reading ``workload.name``,
  ``workload.__class__``, ``type(workload)`` or ``isinstance(workload, ...)``
  anywhere else is flagged;
- a submission may not read evaluation data: calling the workload's eval
  routines (``eval_model``, ``_eval_model_on_split``, ``_eval_step``) or
  building an input queue / reading arrays of the ``'validation'`` or
  ``'test'`` split is flagged.

Anything subtler (e.g. inferring the workload from parameter shapes) is not
decidable from the source and is not flagged. The validator also catches
eval-data reads at run time, where ``getattr`` tricks hide them from the AST.
No JAX import here: this runs in the validator's parent process.
"""

import ast
import pathlib

WORKLOAD_PARAM = 'workload'
# The one function allowed to depend on the workload's name.
NAME_DEPENDENT_FUNCTION = 'get_batch_size'
EVAL_METHODS = ('eval_model', '_eval_model_on_split', '_eval_step')
DATA_METHODS = ('_build_input_queue', 'split_arrays', 'load_split')
EVAL_SPLITS = ('validation', 'test')

_BRANCH_FIX = (
  'submissions may not depend on which workload they train (only '
  'get_batch_size may use the workload name); derive behaviour from '
  'hyperparameters or workload-independent facts such as param_shapes or '
  'step_hint.')
_EVAL_FIX = (
  'submissions may not read validation or test data; train only on the '
  'batches data_selection receives from input_queue.')


def check_source(path) -> list[str]:
  """Problems found in ``path`` (a submission.py), one per entry."""
  path = pathlib.Path(path)
  try:
    tree = ast.parse(path.read_text(), filename=str(path))
  except SyntaxError:
    return []  # The import step reports syntax errors with their line.
  visitor = _RuleVisitor(path)
  visitor.visit(tree)
  return visitor.problems


class _RuleVisitor(ast.NodeVisitor):

  def __init__(self, path: pathlib.Path):
    self.path = path
    self.problems: list[str] = []
    self._functions: list[str] = []

  def _where(self, node) -> str:
    function = self._functions[-1] if self._functions else '<module>'
    return f'{self.path}:{node.lineno}: {function}'

  def visit_FunctionDef(self, node):
    self._functions.append(node.name)
    self.generic_visit(node)
    self._functions.pop()

  visit_AsyncFunctionDef = visit_FunctionDef

  def _outermost_function(self) -> str:
    return self._functions[0] if self._functions else ''

  def visit_Attribute(self, node):
    if (_is_workload(node.value) and node.attr in ('name', '__class__')
        and self._outermost_function() != NAME_DEPENDENT_FUNCTION):
      self.problems.append(
        f'{self._where(node)} reads workload.{node.attr}: {_BRANCH_FIX}')
    self.generic_visit(node)

  def visit_Call(self, node):
    name = _callee_name(node.func)
    if (name in ('type', 'isinstance') and node.args
        and _is_workload(node.args[0])
        and self._outermost_function() != NAME_DEPENDENT_FUNCTION):
      self.problems.append(
        f'{self._where(node)} calls {name}(workload'
        f'{", ..." if name == "isinstance" else ""}): {_BRANCH_FIX}')
    if isinstance(node.func, ast.Attribute):
      method = node.func.attr
      if method in EVAL_METHODS:
        self.problems.append(
          f'{self._where(node)} calls {method}(...), the workload\'s '
          f'evaluation routine: {_EVAL_FIX}')
      elif method in DATA_METHODS:
        split = _eval_split_argument(node)
        if split:
          self.problems.append(
            f'{self._where(node)} calls {method}(..., {split!r}, ...): '
            f'{_EVAL_FIX}')
    self.generic_visit(node)


def _is_workload(node) -> bool:
  return isinstance(node, ast.Name) and node.id == WORKLOAD_PARAM


def _callee_name(func) -> str:
  return func.id if isinstance(func, ast.Name) else ''


def _eval_split_argument(call: ast.Call) -> str:
  values = list(call.args) + [k.value for k in call.keywords]
  for value in values:
    if isinstance(value, ast.Constant) and value.value in EVAL_SPLITS:
      return value.value
  return ''
