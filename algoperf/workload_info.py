"""Rows of `algoperf workloads`: facts from the registry, details on demand."""

import math

from algoperf import console
from algoperf import registry
from algoperf.target_setting import resolution


def describe(name: str, details: bool = False) -> dict:
  """One row of facts for ``algoperf workloads``.

  Facts come from the suite file alone (no JAX); ``details`` builds the
  workload to count its parameters and name its data.
  """
  facts = registry.facts(name)
  row = {
    'workload': name,
    'base': facts.base_name or '',
    'metric': f'{facts.target_metric_name} ({facts.metric_direction})',
    'val target': facts.validation_target_value,
    'test target': facts.test_target_value,
    'budget s': facts.max_allowed_runtime_sec,
    'eval every s': facts.eval_period_time_sec,
    'step hint': facts.step_hint,
    'provisional': 'yes' if facts.targets_are_provisional else 'no',
  }
  if details:
    import jax

    # The bootstrap SE of the target metric at the target (suite fact;
    # docs/targets.md), ' !' past issue 18's goal of 0.25% abs / 0.5% rel.
    se = facts.target_standard_error
    metric = facts.target_metric_name
    row['val SE'] = resolution.format_se(se and se.validation, metric)
    row['test SE'] = resolution.format_se(se and se.test, metric)
    # From the protocol's seed reruns (bases only): compilation in the
    # budget and evaluation in a scored run.
    row['compile %'] = _percent(facts.compile_share)
    row['eval %'] = _percent(facts.eval_share)

    workload = registry.make_workload(name)
    # Shapes only: AlgoPerf-size models (criteo1tb's 539M parameters) would
    # take minutes and gigabytes to initialise for a count.
    params, _ = jax.eval_shape(workload.init_model_fn, jax.random.PRNGKey(0))
    row['params'] = sum(math.prod(x.shape) for x in jax.tree.leaves(params))
    row['train/val/test'] = (
      f'{workload.num_train_examples}/{workload.num_validation_examples}/'
      f'{workload.num_test_examples}'
    )
    builder = workload.dataset_builder
    row['dataset'] = builder.name if builder else ''
    if se is not None and (se.validation_examples, se.test_examples) != (
        workload.num_validation_examples, workload.num_test_examples):
      # Measured on splits of another size: remeasure before trusting it.
      row['val SE'] += ' (stale)'
      row['test SE'] += ' (stale)'
  return row


def _percent(share: float | None) -> str:
  return '-' if share is None else f'{100 * share:.1f}%'


# Column -> priority (0 stays; larger numbers leave narrow terminals first).
_PRIORITY = {'workload': 0, 'val target': 1, 'budget s': 1, 'metric': 2,
             'val SE': 2, 'test SE': 3, 'compile %': 3, 'eval %': 3,
             'test target': 2, 'params': 2, 'base': 3, 'step hint': 3,
             'train/val/test': 3, 'dataset': 4, 'eval every s': 4,
             'provisional': 5}


def table(rows: list[dict], details: bool = False):
  """A FittedTable of ``describe`` rows."""
  from algoperf import tables

  columns = [tables.Column(name, priority=_PRIORITY.get(name, 3),
                           justify='left' if name in (
                             'workload', 'base', 'metric', 'dataset')
                           else 'right')
             for name in rows[0]]
  return tables.FittedTable(
    columns, [[str(v) for v in row.values()] for row in rows],
    title='Workloads' + (' (details)' if details else ''))


def print_table(rows: list[dict], details: bool = False) -> None:
  console.console().print(table(rows, details))


# A self-tuning trial gets 3x the budget (AlgoPerf's self-tuning ruleset).
SELF_TUNING_MULTIPLIER = 3


def worst_case_study_seconds(suite, families: bool = False) -> tuple:
  """(seconds, trials) of one self-tuning study that misses every target.

  Every trial then trains for its whole 3x budget: each base workload and
  its held-out variant (v0.5 rules), under the variant's budget (its base's
  unless it states its own). ``families``: every family of the suite file,
  scored or not (a family without a held-out draw counts its first
  variant). Training time only: evals, start-up and warm-up come on top.
  """
  bases = suite.families if families else suite.base_workloads
  # Facts-only families (AlgoPerf's mnist and cifar) have no budget here.
  bases = [base for base in bases if suite.workloads[base].runnable]
  seconds, trials = 0.0, 0
  for base in bases:
    try:
      variant = suite.held_out_variant(base)
    except registry.WorkloadError:
      variant = (suite.variants(base) or [base])[0]
    for name in (base, variant):
      seconds += SELF_TUNING_MULTIPLIER * (
        suite.workloads[name].max_allowed_runtime_sec)
      trials += 1
  return seconds, trials


def listing_order(suite) -> list:
  """The suite's runnable workloads, its scored set first.

  Each family is its base then its variants; the scored families come in
  ``base_workloads`` order, then the families a version left unscored
  (targets provisional), so the table opens with what a study runs.
  """
  scored = list(suite.base_workloads)
  rest = [base for base in suite.families if base not in scored]
  return [name for base in scored + rest
          for name in (base, *suite.variants(base))
          if suite.workloads[name].runnable]


def scored_set_line(suite) -> str:
  """Which rows a study of the suite's current version runs."""
  unscored = [base for base in suite.families
              if base not in suite.base_workloads
              and suite.workloads[base].runnable]
  held_out = (f'one held-out variant each '
              f'({", ".join(suite.held_out_workloads)})'
              if suite.held_out_workloads else 'no held-out variants')
  line = (f'Scored in suite {suite.name}, benchmark version '
          f'{suite.benchmark_version}: {len(suite.base_workloads)} base '
          f'workloads ({", ".join(suite.base_workloads)}) and {held_out}.')
  if unscored:
    line += (f' Runnable but unscored (targets provisional): '
             f'{", ".join(unscored)} and their variants.')
  return line


def study_time_lines(suite) -> list:
  """What `algoperf workloads --details` prints under its table."""
  lines = []
  for families, what in ((False, 'scored set'), (True, 'every family')):
    seconds, trials = worst_case_study_seconds(suite, families)
    lines.append(
      f'Worst-case self-tuning study, {what} of suite {suite.name}, '
      f'benchmark version {suite.benchmark_version} ({trials} trials at '
      f'{SELF_TUNING_MULTIPLIER}x budget, every target missed): '
      f'{seconds / 60:,.1f} min of training.')
  return lines
