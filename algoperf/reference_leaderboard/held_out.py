"""Held-out variants and when their trials can be skipped (v0.5 rule).

Under AlgoPerf v0.5 scoring a base workload counts only if its held-out
variant is reached too; both are medians over studies. A variant's trials
matter only while the base's median can still be finite, so a variant trial
is skipped when the base has already missed its target in at least half of
the studies (its median is then infinite whatever the variant does). When
the base missed in *this* study but its median is still open, the variant
trial waits until the other studies' base trials have finished: it is
needed exactly when the base median ends up finite.

Skipping a variant trial only because the base missed in the same study
would be cheaper but wrong: with bases [10 s, 12 s, miss] the base median
(12 s) is finite and the variant's median needs all three studies.
"""

import dataclasses
import pathlib

from algoperf import records
from algoperf import registry


def variant(base: str) -> str:
  """The held-out variant of a CPU-suite base workload (the suite's draw)."""
  return registry.suite().held_out_variant(base)


RUN, SKIP, WAIT = 'run', 'skip', 'wait'
DONE = 'done'  # The variant trial has finished already.


@dataclasses.dataclass(frozen=True)
class Decision:
  action: str  # RUN, SKIP, WAIT (or DONE).
  reason: str


def decide(base_reached: dict[int, bool | None], study: int,
           num_studies: int) -> Decision:
  """Whether the held-out trial of ``study`` is needed.

  Args:
    base_reached: study -> True (base trial reached its target), False
      (finished without reaching it) or None (not finished yet); absent
      studies count as not finished.
    study: the study whose variant trial is decided.
    num_studies: studies planned per workload (the median's size).
  """
  outcomes = [base_reached.get(k) for k in range(num_studies)]
  missed = [k for k, v in enumerate(outcomes) if v is False]
  if 2 * len(missed) >= num_studies:  # The median is infinite.
    listed = ', '.join(map(str, missed))
    return Decision(SKIP, f'base missed its target in {len(missed)} of '
                    f'{num_studies} studies ({listed}): its median is '
                    'infinite, the variant cannot change the score')
  if outcomes[study] is True:
    return Decision(RUN, 'base reached its target in this study')
  if outcomes[study] is None:
    return Decision(WAIT, 'base trial of this study not finished')
  if None in outcomes:
    return Decision(WAIT, 'base missed in this study; waiting for the other '
                    'studies to tell whether its median is finite')
  return Decision(RUN, 'base missed in this study but its median is finite')


def trial_reached(trial_dir, facts: registry.WorkloadFacts) -> bool:
  """Whether a finished trial's evals meet its validation target.

  Judged as scoring judges it (some eval's ``validation/<metric>`` at or
  past the target; NaN, empty or missing never is), not by the trial's
  status: a trial that met the validation target but not the test target
  trains on and ends 'budget_exhausted', yet scoring counts it. The
  registry's target is the one the trials ran against: ``run`` refuses to
  resume once the two differ (``run_info.merge_targets``).
  """
  path = pathlib.Path(trial_dir) / records.EVAL_MEASUREMENTS
  if not path.exists():
    return False
  column = f'validation/{facts.target_metric_name}'
  return any(isinstance(row.get(column), (int, float))
             and facts.meets(row[column], facts.validation_target_value)
             for row in records.read_rows_csv(path))
