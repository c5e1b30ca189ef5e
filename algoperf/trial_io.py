"""Writes one trial's files as the runner goes; every write is atomic."""

import dataclasses
import math
import os
import pathlib
import platform
import time

from algoperf import records
from algoperf import registry
from algoperf.errors import AlgoperfError


class TrialExistsError(AlgoperfError):
  """The trial directory already holds a finished trial."""


class MetricsLogger:
  """AlgoPerf's ``workload.metrics_logger``: scalars for measurements.csv.

  ``append_scalar_metrics`` only buffers (it is called inside the timed
  update); the runner flushes the buffer at each eval, off the clock.
  """

  def __init__(self, path: pathlib.Path):
    self._path = path
    self.rows: list[dict] = []
    self.device_rows: list = []  # (global_step, {name: device scalar}).
    self.device_history: list[dict] = []

  def append_scalar_metrics(self, metrics, global_step, preemption_count=None,
                            is_eval=False):
    del is_eval
    row = {k: _scalar(v) for k, v in metrics.items()}
    row['global_step'] = int(global_step)
    if preemption_count is not None:
      row['preemption_count'] = preemption_count
    self.rows.append(row)

  def append_device_metrics(self, metrics, global_step) -> None:
    """Keeps per-step scalars on device; no host sync inside the step.

    For cheap per-step series such as gradient norms (``grad_norm_l2``,
    ``grad_norm_l1``): they are fetched in one transfer at the next eval and
    written to grad_norms.csv.
    """
    self.device_rows.append((int(global_step), metrics))

  def flush(self) -> None:
    if self.rows:
      records.write_rows_csv(self._path, self.rows)
    if self.device_rows:
      import jax

      steps = [step for step, _ in self.device_rows]
      values = jax.device_get([m for _, m in self.device_rows])
      self.device_history += [
        {'global_step': step, **{k: float(v) for k, v in m.items()}}
        for step, m in zip(steps, values)]
      self.device_rows = []
      records.write_rows_csv(self._path.parent / records.GRAD_NORMS,
                             self.device_history)


def _scalar(value):
  try:
    return float(value)
  except (TypeError, ValueError):
    return str(value)


@dataclasses.dataclass
class TrialWriter:
  directory: pathlib.Path
  workload_name: str
  submission_path: str
  config: object
  metrics_logger: MetricsLogger
  benchmark_version: str
  run_index: int = 0
  info: dict = dataclasses.field(default_factory=dict)
  # What earlier attempts of a resumed trial measured (status.json).
  earlier_measurements: list = dataclasses.field(default_factory=list)

  @classmethod
  def create(cls, workload, submission, config) -> 'TrialWriter':
    directory = records.trial_dir(
      config.experiment_dir, config.experiment_name, config.study,
      workload.name, config.trial)
    status_path = directory / records.STATUS
    if status_path.exists():
      recorded = records.read_json(status_path)
      status = recorded.get('status')
      if records.is_final(recorded):
        raise TrialExistsError(
          f'{directory} already holds a finished trial (status {status!r}). '
          'Choose another --name or --experiment-dir, or delete that '
          'directory to run it again.')
    return cls(directory, workload.name, str(submission.path), config,
               MetricsLogger(directory / records.MEASUREMENTS),
               registry.suite(workload.facts.suite).benchmark_version)

  def start(self, batch_size: int, resumed: bool = False,
            info: dict | None = None) -> None:
    """Records this attempt; ``info`` goes into every status.json write.

    An attempt that does not resume from a checkpoint starts clean: rows a
    killed earlier attempt wrote are removed.
    """
    self.directory.mkdir(parents=True, exist_ok=True)
    self.run_index = records.next_index(self.directory, 'meta_data')
    if resumed:
      self.earlier_measurements = self._recorded().get('measurements', [])
    if not resumed:
      for name in (records.EVAL_MEASUREMENTS, records.MEASUREMENTS,
                   records.GRAD_NORMS):
        (self.directory / name).unlink(missing_ok=True)
    self.info = {**(info or {}), 'batch_size': batch_size,
                 'attempt': self.run_index, 'resumed': resumed,
                 'host': platform.node(), 'pid': os.getpid()}
    config = dataclasses.asdict(self.config)
    records.write_json(self.directory / records.HPARAMS,
                       self.config.hyperparameters or {})
    records.write_json(
      self.directory / f'flags_{self.run_index}.json',
      {**config, 'workload': self.workload_name,
       'submission_path': self.submission_path, 'batch_size': batch_size})
    records.write_json(self.directory / f'meta_data_{self.run_index}.json',
                       records.hardware_and_software(
                         self.config.rng_seed, self.benchmark_version))
    self._write_status({'status': records.RUNNING, 'message': ''})

  def _write_status(self, data: dict) -> None:
    data = {'workload': self.workload_name,
            'submission': self.submission_path,
            'study': self.config.study, 'trial': self.config.trial,
            **self.info, 'updated': time.time(), **data}
    records.write_json(self.directory / records.STATUS, data)

  def _recorded(self) -> dict:
    try:
      return records.read_json(self.directory / records.STATUS)
    except (OSError, ValueError):
      return {}

  def _measured(self, measurement: dict | None) -> dict:
    """status.json's record of every attempt's measurement so far."""
    if measurement is None:
      return {}
    attempts = self.earlier_measurements + [
      {'attempt': self.run_index, **measurement}]
    contended = [m for m in attempts if m['machine']['contended']]
    return {'measurements': attempts, 'contended': bool(contended),
            'contention': '; '.join(
              f'attempt {m["attempt"]}: {m["machine"]["contention"]}'
              for m in contended)}

  def write_evals(self, loop, measurement: dict | None = None) -> None:
    """``measurement``: the attempt's machine and compilation so far."""
    records.write_rows_csv(self.directory / records.EVAL_MEASUREMENTS,
                           loop.eval_rows)
    self.metrics_logger.flush()
    if loop.status is None:  # Progress for `algoperf status` and tables.
      self._write_status({'status': records.RUNNING, 'message': '',
                          'global_step': loop.global_step,
                          'num_evals': len(loop.eval_rows),
                          **self._best(loop.eval_rows),
                          'last_eval': _finite(loop.eval_rows[-1]),
                          **self._measured(measurement)})

  def _best(self, rows: list[dict]) -> dict:
    """``best_metric``: the best value of the target metric so far (None
    if not logged); ``best_step``: the global step of its first eval."""
    metric = self.info.get('target_metric')
    found = [(r[metric], r.get('global_step')) for r in rows
             if isinstance(r.get(metric), float)
             and not math.isnan(r[metric])]
    if not found:
      return {'best_metric': None, 'best_step': None}
    sign = 1 if self.info.get('metric_direction') == 'min' else -1
    value, step = min(found, key=lambda found: sign * found[0])
    return {'best_metric': value, 'best_step': step}

  def record_error(self, message: str, details: str, loop) -> None:
    if loop is not None and loop.eval_rows:
      self.write_evals(loop)
    self.metrics_logger.flush()
    self._write_status({
      'status': records.ERROR, 'message': message, 'traceback': details,
      'global_step': loop.global_step if loop is not None else 0})

  def finish(self, loop, clock, clock_check: dict,
             measurement: dict | None = None) -> None:
    self.write_evals(loop)
    last = loop.eval_rows[-1] if loop.eval_rows else {}
    self._write_status({
      'status': loop.status,
      'message': loop.message,
      'global_step': loop.global_step,
      'num_evals': len(loop.eval_rows),
      **self._best(loop.eval_rows),
      'accumulators': dict(clock.totals),
      'test_eval_seconds': loop.test_eval_seconds,
      'clock_self_check': clock_check,
      'last_eval': _finite(last),
      **self._measured(measurement),
    })


def _finite(row: dict) -> dict:
  return {k: v for k, v in row.items()
          if not (isinstance(v, float) and math.isnan(v))}
