"""The submission API: AlgoPerf v0.6 (JAX) types and the Workload contract.

Names, enum values and signatures match MLCommons AlgoPerf so that a
submission written for it (``from algoperf import spec``) runs here unedited.

A submission module defines:

* ``get_batch_size(workload_name) -> int``
* ``init_optimizer_state(workload, model_params, model_state,
  hyperparameters, rng) -> OptimizerState``
* ``update_params(workload, current_param_container, current_params_types,
  model_state, hyperparameters, batch, loss_type, optimizer_state,
  eval_results, global_step, rng, train_state=None) -> UpdateReturn``
* ``data_selection(workload, input_queue, optimizer_state,
  current_param_container, model_state, hyperparameters, global_step, rng)
  -> batch``
* optionally ``prepare_for_eval(workload, current_param_container,
  current_params_types, model_state, hyperparameters, loss_type,
  optimizer_state, eval_results, global_step, rng) -> UpdateReturn``
"""

import abc
import enum
from collections.abc import Callable
from collections.abc import Collection
from collections.abc import Iterator
from typing import Any

# The prefixes of eval_model's keys, one per split it evaluates.
EVAL_SPLITS = ('train', 'validation', 'test')


class LossType(enum.Enum):
  SOFTMAX_CROSS_ENTROPY = 0
  SIGMOID_CROSS_ENTROPY = 1
  MEAN_SQUARED_ERROR = 2
  CTC_LOSS = 3
  MEAN_ABSOLUTE_ERROR = 4


class ForwardPassMode(enum.Enum):
  TRAIN = 0
  EVAL = 1


class ParameterType(enum.Enum):
  WEIGHT = 0
  BIAS = 1
  CONV_WEIGHT = 2
  BATCH_NORM_SCALE = 3
  BATCH_NORM_BIAS = 4
  LAYER_NORM_SCALE = 5
  LAYER_NORM_BIAS = 6
  EMBEDDING = 7
  ATTENTION_Q = 8
  ATTENTION_K = 9
  ATTENTION_V = 10
  ATTENTION_OUT = 11
  ATTENTION_QKV = 12  # Fused query/key/value projections.
  ATTENTION_KV = 13  # Fused key/value projections.
  ATTENTION_BIAS = 14


Tensor = Any


class ShapeTuple:
  """A parameter shape that pytree utilities treat as one leaf.

  Example:
    >>> jax.tree.map(lambda s: jnp.zeros(s.shape_tuple), workload.param_shapes)
  """

  def __init__(self, shape_tuple):
    self.shape_tuple = shape_tuple

  def __repr__(self):
    return f'ShapeTuple({self.shape_tuple})'

  def __eq__(self, other):
    return self.shape_tuple == other.shape_tuple

  def __hash__(self):
    return hash(tuple(self.shape_tuple))


Shape = (tuple[int] | tuple[int, int] | tuple[int, int, int]
         | tuple[int, int, int, int] | ShapeTuple)
ParameterShapeTree = dict[str, dict[str, Shape]]
ParameterKey = str
ParameterContainer = dict[ParameterKey, Any]
ParameterTypeTree = dict[ParameterKey, dict[ParameterKey, ParameterType]]
RandomState = Any
OptimizerState = dict[str, Any] | tuple[Any, Any]
Hyperparameters = Any
Timing = int
Steps = int
ModelAuxiliaryState = Any
ModelInitState = tuple[ParameterContainer, ModelAuxiliaryState]
UpdateReturn = tuple[OptimizerState, ParameterContainer, ModelAuxiliaryState]


class TrainingCompleteError(Exception):
  """Raised by a submission that considers its training finished.

  The run ends and gets a final eval; if the target was not reached the
  workload counts as not reached.
  """


class Workload(metaclass=abc.ABCMeta):
  """The AlgoPerf workload contract: model, data, loss, metric, target, budget.

  Submissions may read every public attribute here. They must not call
  ``_build_input_queue`` or ``_eval_model_on_split``.
  """

  def __init__(self, *args, **kwargs) -> None:
    del args, kwargs
    self._param_shapes: ParameterShapeTree | None = None
    self._param_types: ParameterTypeTree | None = None
    self._eval_iters: dict[str, Iterator] = {}
    # None, or an object with append_scalar_metrics(metrics, global_step).
    self.metrics_logger = None

  def attach_metrics_logger(self, metrics_logger) -> None:
    self.metrics_logger = metrics_logger

  @property
  @abc.abstractmethod
  def target_metric_name(self) -> str:
    """Name of the validation metric the target is set on, e.g. 'accuracy'."""

  @abc.abstractmethod
  def has_reached_validation_target(self,
                                    eval_result: dict[str, float]) -> bool:
    """Whether ``eval_result`` meets the validation target."""

  @abc.abstractmethod
  def has_reached_test_target(self, eval_result: dict[str, float]) -> bool:
    """Whether ``eval_result`` meets the test target."""

  @abc.abstractmethod
  def _build_input_queue(
    self,
    data_rng: RandomState,
    split: str,
    data_dir: str,
    global_batch_size: int,
    cache: bool | None = None,
    repeat_final_dataset: bool | None = None,
    num_batches: int | None = None,
  ) -> Iterator[dict[str, Any]]:
    """Iterator of global batches sharded along the batch dimension."""

  @property
  @abc.abstractmethod
  def validation_target_value(self) -> float:
    """The validation target."""

  @property
  @abc.abstractmethod
  def test_target_value(self) -> float:
    """The test target."""

  @property
  @abc.abstractmethod
  def loss_type(self) -> LossType:
    """The type of the training loss."""

  @property
  @abc.abstractmethod
  def num_train_examples(self) -> int:
    """Size of the training split."""

  @property
  @abc.abstractmethod
  def eval_batch_size(self) -> int:
    """Batch size used by the harness for evaluation."""

  @property
  @abc.abstractmethod
  def num_eval_train_examples(self) -> int:
    """Number of training examples evaluated at each eval."""

  @property
  @abc.abstractmethod
  def num_validation_examples(self) -> int:
    """Size of the validation split."""

  @property
  @abc.abstractmethod
  def num_test_examples(self) -> int:
    """Size of the test split."""

  @property
  @abc.abstractmethod
  def train_mean(self) -> Any:
    """Mean of the training inputs (per channel where relevant)."""

  @property
  @abc.abstractmethod
  def train_stddev(self) -> Any:
    """Standard deviation of the training inputs."""

  @property
  @abc.abstractmethod
  def max_allowed_runtime_sec(self) -> int:
    """Time budget of submission time, in seconds."""

  @property
  @abc.abstractmethod
  def eval_period_time_sec(self) -> int:
    """Submission time between evals, in seconds."""

  @property
  @abc.abstractmethod
  def step_hint(self) -> int:
    """Steps the target-setting run used; schedules may scale by it."""

  @property
  def param_shapes(self) -> ParameterShapeTree:
    """Pytree of ``ShapeTuple``; available after ``init_model_fn``."""
    return _set_by_init(self._param_shapes, 'param_shapes')

  @property
  def model_params_types(self) -> ParameterTypeTree:
    """Pytree of ``ParameterType``; available after ``init_model_fn``."""
    return _set_by_init(self._param_types, 'model_params_types')

  @abc.abstractmethod
  def is_output_params(self, param_key: ParameterKey) -> bool:
    """Whether ``param_key`` names the output layer's parameters."""

  @abc.abstractmethod
  def init_model_fn(self, rng: RandomState) -> ModelInitState:
    """Returns ``(initial_params, initial_model_state)``."""

  @abc.abstractmethod
  def model_fn(
    self,
    params: ParameterContainer,
    augmented_and_preprocessed_input_batch: dict[str, Tensor],
    model_state: ModelAuxiliaryState,
    mode: ForwardPassMode,
    rng: RandomState,
    update_batch_norm: bool,
    dropout_rate: float = 0.0,
  ) -> tuple[Tensor, ModelAuxiliaryState]:
    """Returns ``(logits_batch, new_model_state)``."""

  @abc.abstractmethod
  def loss_fn(
    self,
    label_batch: tuple[Tensor, Tensor] | Tensor,
    logits_batch: tuple[Tensor, Tensor] | Tensor,
    mask_batch: Tensor | None = None,
    label_smoothing: float = 0.0,
  ) -> dict[str, Tensor]:
    """Returns ``{'summed', 'n_valid_examples', 'per_example'}``.

    Regularization is not included; that is the submission's business.
    """

  @abc.abstractmethod
  def _eval_model_on_split(
    self,
    split: str,
    num_examples: int,
    global_batch_size: int,
    params: ParameterContainer,
    model_state: ModelAuxiliaryState,
    rng: RandomState,
    data_dir: str,
    global_step: int = 0,
  ) -> dict[str, float]:
    """Evaluates on one split and returns scalars keyed by metric name."""

  def eval_model(
    self,
    global_batch_size: int,
    params: ParameterContainer,
    model_state: ModelAuxiliaryState,
    rng: RandomState,
    data_dir: str,
    imagenet_v2_data_dir: str | None,
    global_step: int,
    *,
    splits: Collection[str] = EVAL_SPLITS,
  ) -> dict[str, float]:
    """Evaluates on eval_train, validation and test; keys are 'split/metric'.

    ``splits``: which of ``EVAL_SPLITS`` to evaluate (our runner's
    keyword; AlgoPerf's eval_model evaluates all three).
    """
    del imagenet_v2_data_dir
    results = {}
    sizes = [
      ('train', 'eval_train', self.num_eval_train_examples),
      ('validation', 'validation', self.num_validation_examples),
      ('test', 'test', self.num_test_examples),
    ]
    for prefix, split, num_examples in sizes:
      if num_examples is None or prefix not in splits:
        continue
      metrics = self._eval_model_on_split(
        split,
        num_examples=num_examples,
        global_batch_size=global_batch_size,
        params=params,
        model_state=model_state,
        rng=rng,
        data_dir=data_dir,
        global_step=global_step,
      )
      results.update({f'{prefix}/{k}': v for k, v in metrics.items()})
      if prefix != 'train':
        results[f'{prefix}/num_examples'] = num_examples
    return results


# Signatures of the submission functions, for documentation and validation.
InitOptimizerFn = Callable[
  [Workload, ParameterContainer, ModelAuxiliaryState, Hyperparameters,
   RandomState],
  OptimizerState,
]
UpdateParamsFn = Callable[
  [Workload, ParameterContainer, ParameterTypeTree, ModelAuxiliaryState,
   Hyperparameters, dict[str, Tensor], LossType, OptimizerState,
   list[tuple[int, float]], int, RandomState],
  UpdateReturn,
]
PrepareForEvalFn = Callable[
  [Workload, ParameterContainer, ParameterTypeTree, ModelAuxiliaryState,
   Hyperparameters, LossType, OptimizerState, list[tuple[int, float]], int,
   RandomState],
  UpdateReturn,
]
DataSelectionFn = Callable[
  [Workload, Iterator[dict[str, Any]], OptimizerState, ParameterContainer,
   ModelAuxiliaryState, Hyperparameters, int, RandomState],
  dict[str, Tensor],
]
GetBatchSizeFn = Callable[[str], int]


def _set_by_init(value, name: str):
  if value is None:
    raise ValueError(f'workload.{name} is set by workload.init_model_fn(); '
                     'call it first.')
  return value
