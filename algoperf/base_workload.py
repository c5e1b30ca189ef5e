"""Shared machinery for workloads whose splits fit in memory.

A concrete workload names itself (``name``, its registry key), states its
shape as class attributes (sizes, batch sizes, normalisation), names its
TFDS builder and its flax.linen module (``model_class``, built from the
class attributes named in ``model_settings``: a variant overrides some of
them), and implements ``init_inputs`` (a dummy input batch). ``loss_fn``
(the loss ``loss_type`` names) and ``eval_metrics`` (loss and accuracy)
have defaults a workload overrides where its task differs.
Its facts -- metric and direction, targets, budget, eval period, step hint,
base workload -- are not class attributes: they come from the suite file
through ``algoperf.registry`` (``self.facts``), their one home. Everything
else -- the deterministic resumable input queue, sharding, padded
evaluation with one cached jitted function, parameter shapes and types --
lives here once.

The flax module's ``__call__`` takes ``(inputs, *, train, update_batch_norm,
dropout_rate)``.
"""

import atexit
import dataclasses
import functools
import importlib
import math
import queue
import threading
import weakref
from collections.abc import Iterator
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from algoperf import jax_sharding_utils
from algoperf import losses
from algoperf import param_types
from algoperf import registry
from algoperf import spec
from algoperf.data import dirs
from algoperf.data import prepared
from algoperf.errors import DataError


def _fact(field: str) -> property:
  """A read-only property returning ``self.facts.<field>``."""
  return property(lambda self: getattr(self.facts, field),
                  doc=f'``{field}`` from the suite file (algoperf.registry).')


class DataSide:
  """A class attribute read from the data side's module on first use.

  ``workloads/<family>/dataset.py`` is the data side (``BUILDER``, a
  detokenizer); it is imported only when data is read, so a workload's
  model side and its synthetic-data tests work without it::

    dataset_builder = DataSide('workloads.wmt.dataset', 'BUILDER')
  """

  def __init__(self, module: str, attribute: str):
    self._module, self._attribute = module, attribute

  def __get__(self, obj, owner):
    return getattr(importlib.import_module(self._module), self._attribute)


class ArrayWorkload(spec.Workload):
  """Base for workloads on in-memory arrays (the CPU suite)."""

  # The registry key == log directory prefix; a variant has its own.
  name: str
  # --- The workload's shape (a concrete workload states each). ---
  num_train_examples: int
  num_eval_train_examples: int
  num_validation_examples: int
  num_test_examples: int
  eval_batch_size: int
  default_batch_size: int  # Used when a submission has no size for us.
  dataset_builder: Any  # A tfds GeneratorBasedBuilder subclass.
  train_mean: Any = 0.0
  train_stddev: Any = 1.0
  input_keys: tuple = ('inputs', 'targets')  # Features fed to model/loss.
  # What the model reads: batch['inputs'] (None), or a dict of these.
  model_input_keys: tuple | None = None
  model_class: Any = None  # A flax.linen module class.
  model_settings: tuple = ()  # Our class attributes passed to it by name.

  # --- Facts, from the suite file (one home: algoperf/suites/). ---
  base_name = _fact('base_name')
  target_metric_name = _fact('target_metric_name')
  metric_direction = _fact('metric_direction')
  validation_target_value = _fact('validation_target_value')
  test_target_value = _fact('test_target_value')
  targets_are_provisional = _fact('targets_are_provisional')
  max_allowed_runtime_sec = _fact('max_allowed_runtime_sec')
  eval_period_time_sec = _fact('eval_period_time_sec')
  eval_every_steps = _fact('eval_every_steps')
  step_hint = _fact('step_hint')

  def __init__(self):
    super().__init__()
    self.facts: registry.WorkloadFacts = registry.facts(self.name)
    self._use_split_facts()
    self._model = self.build_model()
    self._split_cache = {}
    self._synthetic = None

  def override_facts(self, **changes) -> None:
    """Replaces facts of this instance only: for tests and measurements.

    ``workload.override_facts(eval_every_steps=1)`` evaluates after every
    step. A scored run never does this.
    """
    self.facts = dataclasses.replace(self.facts, **changes)
    self._use_split_facts()

  def _use_split_facts(self) -> None:
    """The suite's split sizes, where it states them, over the class's."""
    for fact, attribute in (('validation_examples', 'num_validation_examples'),
                            ('test_examples', 'num_test_examples')):
      value = getattr(self.facts, fact)
      if value is not None:
        setattr(self, attribute, value)

  # --- What a concrete workload implements or overrides. ---
  def build_model(self):
    """``model_class`` with each ``model_settings`` attribute of ours."""
    return self.model_class(
      **{setting: getattr(self, setting) for setting in self.model_settings})

  def init_inputs(self) -> Any:
    """A dummy batch of inputs (batch size 1) for ``module.init``."""
    raise NotImplementedError

  def loss_fn(self, label_batch, logits_batch, mask_batch=None,
              label_smoothing=0.0):
    """The loss ``loss_type`` names (``algoperf.losses``), AlgoPerf's form."""
    return losses.BY_LOSS_TYPE[self.loss_type](
      label_batch, logits_batch, mask_batch, label_smoothing)

  def eval_metrics(self, logits, batch, mask) -> dict[str, jax.Array]:
    """Per-batch metric *sums* over valid examples: loss and accuracy.

    A classifier's metrics; a workload scored otherwise overrides this.
    """
    return {
      'accuracy': losses.num_correct(logits, batch['targets'], mask),
      'loss': self.loss_fn(batch['targets'], logits, mask)['summed'],
    }

  def eval_averages(self, totals, num_examples: int) -> dict[str, float]:
    """One split's metrics from the summed ``eval_metrics``: per example."""
    return {k: float(v) / num_examples for k, v in totals.items()}

  def synthetic_arrays(self, num_examples: int, seed: int):
    """Random stored-form arrays of the real shapes and dtypes (for tests)."""
    raise NotImplementedError

  def use_synthetic_data(self, num_examples: int = 64, seed: int = 0) -> None:
    """Serves every split from ``synthetic_arrays``; tests never touch disk.

    Whatever ``data_dir`` the runner then passes, these arrays are used.
    """
    self._synthetic = {}
    for i, split in enumerate(('train', 'validation', 'test')):
      raw = self.synthetic_arrays(num_examples, seed + i)
      self._synthetic[split] = self.preprocess(dict(raw))

  def preprocess(self, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Turns stored features into model inputs once per split (e.g. scale)."""
    return arrays

  def split_arrays(self, split: str, data_dir) -> dict[str, np.ndarray]:
    """The split's arrays. 'eval_train' is the first examples of 'train'."""
    data_dir = dirs.resolve_data_dir(data_dir)
    if self._reads_records():  # Larger than memory: eval splits only.
      from algoperf.data import streaming

      return streaming.stored_split(self, split, data_dir)
    if split == 'eval_train':
      train = self.split_arrays('train', data_dir)
      return {k: v[: self.num_eval_train_examples] for k, v in train.items()}
    if self._synthetic is not None:
      return self._synthetic[split]
    cache_key = (split, str(data_dir))
    if cache_key not in self._split_cache:
      raw = prepared.load_split(
        self.dataset_builder, split, data_dir, self.name
      )
      self._split_cache[cache_key] = self.preprocess(dict(raw))
    return self._split_cache[cache_key]

  # --- Targets. ---
  def has_reached_validation_target(self, eval_result: dict[str, float]):
    value = eval_result[f'validation/{self.target_metric_name}']
    return self.facts.meets(value, self.validation_target_value)

  def has_reached_test_target(self, eval_result: dict[str, float]):
    value = eval_result[f'test/{self.target_metric_name}']
    return self.facts.meets(value, self.test_target_value)

  # --- Model. ---
  def init_model_fn(self, rng) -> spec.ModelInitState:
    params_rng, dropout_rng = jax.random.split(rng)
    variables = _jitted_init(self._model)(
      {'params': params_rng, 'dropout': dropout_rng}, self.init_inputs())
    variables = dict(variables)
    params = variables.pop('params')
    model_state = variables or None
    self._param_shapes = jax.tree.map(
      lambda x: spec.ShapeTuple(x.shape), params
    )
    self._param_types = param_types.infer_param_types(params)
    replicate = jax_sharding_utils.replicate
    return replicate(params), replicate(model_state)

  def is_output_params(self, param_key: spec.ParameterKey) -> bool:
    return param_key == self.output_layer_name

  output_layer_name: str = 'Dense_out'

  def model_fn(
    self,
    params,
    augmented_and_preprocessed_input_batch,
    model_state,
    mode,
    rng,
    update_batch_norm,
    dropout_rate=0.0,
  ):
    train = mode == spec.ForwardPassMode.TRAIN
    variables = {'params': params, **(model_state or {})}
    kwargs = dict(
      train=train,
      update_batch_norm=update_batch_norm,
      dropout_rate=dropout_rate,
    )
    if rng is not None:  # Deterministic models may be called without one.
      kwargs['rngs'] = {'dropout': rng}
    batch = augmented_and_preprocessed_input_batch
    if self.model_input_keys is None:
      inputs = batch['inputs']
    else:
      inputs = {k: batch[k] for k in self.model_input_keys}
    if update_batch_norm and model_state:
      logits, new_state = self._model.apply(
        variables, inputs, mutable=list(model_state), **kwargs
      )
      return logits, dict(new_state)
    logits = self._model.apply(variables, inputs, **kwargs)
    return logits, model_state

  # --- Input pipeline. ---
  def _reads_records(self) -> bool:
    """Whether the splits are prepared records read by index (the AlgoPerf
    suite's data, larger than memory: algoperf/data/streaming.py) rather
    than in-memory arrays. Synthetic data is always in memory."""
    return self._synthetic is None and getattr(
      self.dataset_builder, 'reads_by_index', False)

  def _build_input_queue(
    self,
    data_rng,
    split: str,
    data_dir: str,
    global_batch_size: int,
    cache: bool | None = None,
    repeat_final_dataset: bool | None = None,
    num_batches: int | None = None,
    start_position: int = 0,
  ) -> Iterator[dict[str, Any]]:
    del cache, repeat_final_dataset, num_batches
    if self._reads_records():
      from algoperf.data import streaming

      return streaming.input_queue(self, data_rng, split, data_dir,
                                   global_batch_size, start_position)
    arrays = self.split_arrays(split, data_dir)
    arrays = {k: arrays[k] for k in self.input_keys if k in arrays}
    return self.make_batches(split, arrays, global_batch_size,
                             seed_from_key(data_rng), start_position)

  def make_batches(self, split: str, arrays, global_batch_size: int,
                   seed: int, position: int):
    """The queue over one split's arrays; augmentation overrides it."""
    del split
    return ShuffledBatches(arrays, global_batch_size, seed, position)

  def train_data_view(self, data_dir) -> 'TrainData':
    """Index-level view of the training split for data-selection methods."""
    if self._reads_records():
      from algoperf.data import streaming

      return streaming.train_data(self, data_dir)
    arrays = self.split_arrays('train', data_dir)
    return TrainData({k: arrays[k] for k in self.input_keys if k in arrays})

  # --- Evaluation. ---
  @functools.cached_property
  def _eval_step(self):
    """One jitted eval step per workload instance: no recompiles per eval."""

    def step(params, model_state, batch, mask):
      logits, _ = self.model_fn(
        params, batch, model_state, spec.ForwardPassMode.EVAL,
        jax.random.PRNGKey(0), update_batch_norm=False,
      )
      return self.eval_metrics(logits, batch, mask)

    replicated = jax_sharding_utils.get_replicate_sharding()
    return jax.jit(step, out_shardings=replicated)

  def _eval_model_on_split(
    self,
    split: str,
    num_examples: int,
    global_batch_size: int,
    params,
    model_state,
    rng,
    data_dir: str,
    global_step: int = 0,
  ) -> dict[str, float]:
    del global_batch_size, rng, global_step
    if self._reads_records():
      from algoperf.data import streaming

      return streaming.evaluate(self, split, num_examples, params,
                                model_state, data_dir)
    arrays = self.split_arrays(split, data_dir)
    available = len(arrays[self.input_keys[0]])
    if self._synthetic is None and available < num_examples:
      raise DataError(
        f'{self.name}: the prepared {split} split has {available} examples, '
        f'but the suite evaluates {num_examples}. Prepare the current '
        f'version of its data: `algoperf data prepare {self.name}`.')
    arrays = {k: arrays[k][:num_examples] for k in self.input_keys}
    num_examples = len(next(iter(arrays.values())))
    totals = None
    for batch, mask in padded_batches(arrays, self.eval_batch_size):
      sums = self._eval_step(params, model_state, batch, mask)
      totals = sums if totals is None else jax.tree.map(jnp.add, totals, sums)
    return self.eval_averages(jax.device_get(totals), num_examples)


@functools.lru_cache(maxsize=64)
def _jitted_init(model):
  """One jitted ``model.init`` per distinct model configuration.

  Flax modules compare and hash by their fields, so every instance of a
  workload (tests build many) reuses one compilation, which costs seconds.
  """
  return jax.jit(functools.partial(model.init, train=False))


def seed_from_key(rng) -> int:
  """A non-negative int seed from a JAX PRNG key (old- or new-style)."""
  if isinstance(rng, (int, np.integer)):
    return int(rng)
  key = rng
  if jnp.issubdtype(getattr(rng, 'dtype', None), jax.dtypes.prng_key):
    key = jax.random.key_data(rng)
  data = np.asarray(jax.device_get(key)).astype(np.uint64).ravel()
  return int(data[-1] + (data[0] << np.uint64(32))) % (2**63)


_LIVE_QUEUES = weakref.WeakSet()


@atexit.register
def _close_live_queues():
  for batches in list(_LIVE_QUEUES):
    batches.close()


class ShuffledBatches:
  """Infinite, deterministic, resumable batches over in-memory arrays.

  Examples are read from an endless stream of per-epoch permutations, so
  batch ``k`` depends only on (seed, k): restoring ``position`` resumes the
  exact sequence. Batches are placed on devices split along the batch axis.
  A background thread prepares the next batches while the current step
  computes (the runner blocks every step, so without it host-side batch
  assembly would not overlap with device work).
  """

  _PREFETCH = 2

  def __init__(self, arrays, global_batch_size: int, seed: int, position=0):
    self._arrays = arrays
    self._batch_size = global_batch_size
    self._seed = seed
    self._num = len(next(iter(arrays.values())))
    self.position = position  # Batches handed out so far.
    self._perm_cache = {}
    self._ready = None

  def _permutation(self, epoch: int) -> np.ndarray:
    if epoch not in self._perm_cache:
      self._perm_cache = {epoch: np.random.default_rng(
        [self._seed, epoch]).permutation(self._num)}
    return self._perm_cache[epoch]

  def indices_for(self, position: int) -> np.ndarray:
    start = position * self._batch_size
    stream = np.arange(start, start + self._batch_size)
    epochs, offsets = np.divmod(stream, self._num)
    return np.concatenate([
      self._permutation(int(e))[offsets[epochs == e]]
      for e in np.unique(epochs)
    ])

  def batch_at(self, position: int):
    idx = self.indices_for(position)
    batch = {k: v[idx] for k, v in self._arrays.items()}
    return jax_sharding_utils.shard_along_batch_dim(batch)

  def _produce(self, first_position: int, out: queue.Queue, stop):
    position = first_position
    while not stop.is_set():
      item = self.batch_at(position)
      while not stop.is_set():
        try:
          out.put((position, item), timeout=0.1)
          break
        except queue.Full:
          continue
      position += 1

  def _start_producer(self):
    _LIVE_QUEUES.add(self)
    stop = threading.Event()
    out = queue.Queue(maxsize=self._PREFETCH)
    thread = threading.Thread(target=self._produce,
                              args=(self.position, out, stop), daemon=True)
    thread.start()
    self._ready = (out, stop, thread)

  def close(self):
    """Stops the producer and waits for it: a thread still placing arrays
    on devices while the interpreter shuts down aborts the process."""
    if self._ready is not None:
      _, stop, thread = self._ready
      stop.set()
      thread.join(timeout=10)
      self._ready = None

  def __iter__(self):
    return self

  def __next__(self):
    if self._ready is None:
      self._start_producer()
    position, batch = self._ready[0].get()
    assert position == self.position, (position, self.position)
    self.position += 1
    return batch

  def __del__(self):
    self.close()


class TrainData:
  """The training split by index (docs/design.md §3's extension).

  A ``data_selection`` that names a ``train_data`` parameter receives this,
  so methods such as RS2 can pick which examples each round uses.

  Attributes:
    num_examples: size of the training split.
  """

  def __init__(self, arrays):
    self._arrays = arrays
    self.num_examples = len(next(iter(arrays.values())))

  def __len__(self):
    return self.num_examples

  def get_batch(self, indices):
    """The examples at ``indices`` as a batch split along the batch axis."""
    indices = np.asarray(indices)
    batch = {k: v[indices] for k, v in self._arrays.items()}
    return jax_sharding_utils.shard_along_batch_dim(batch)


def padded_batches(arrays, batch_size: int):
  """Fixed-shape batches (zero-padded) with a 0/1 mask of valid rows.

  The batch size is rounded up to a multiple of the device count so every
  batch splits evenly along the batch axis.
  """
  num_devices = len(jax.devices())
  batch_size = math.ceil(batch_size / num_devices) * num_devices
  num = len(next(iter(arrays.values())))
  for start in range(0, num, batch_size):
    stop = min(start + batch_size, num)
    pad = batch_size - (stop - start)
    batch = {
      k: np.concatenate([v[start:stop],
                         np.zeros((pad,) + v.shape[1:], v.dtype)])
      if pad else v[start:stop]
      for k, v in arrays.items()
    }
    mask = np.concatenate([np.ones(stop - start, np.float32),
                           np.zeros(pad, np.float32)])
    yield jax_sharding_utils.shard_along_batch_dim((batch, mask))


