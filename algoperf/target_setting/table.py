"""From committed run summaries to targets: docs/targets.md and the facts.

Reads only ``docs/targets/runs/`` and the suite's facts (names, and the
facts ``--apply`` writes and ``--check`` compares), so anyone can reproduce
the table from the repository without training anything.
"""

import dataclasses
import json
import pathlib

from algoperf.target_setting import protocol


def summaries_dir(version: str | None = None) -> pathlib.PurePath:
  """Where protocol ``version`` (default: the suite's current one) keeps
  its committed run summaries, relative to the repository."""
  return pathlib.PurePath(
    protocol.version(version or protocol.CURRENT).summaries)


def read_summary(root: pathlib.Path, kind: str,
                 workload: str) -> dict | None:
  path = pathlib.Path(root) / kind / f'{workload}.json'
  if not path.exists():
    return None
  with open(path) as f:
    return json.load(f)


def runs_of(summary: dict) -> list:
  """The protocol's view of a summary's runs."""
  return [protocol.Run(
    workload=r['workload'], algorithm=r['algorithm'], study=r['study'],
    trial=r['trial'], rng_seed=r['rng_seed'],
    hyperparameters=r['hyperparameters'], status=r['status'],
    evals=tuple(protocol.Eval(int(s), float(t), float(v), float(te))
                for s, t, v, te in r['evals'])) for r in summary['runs']]


def winning_run(summary: dict) -> protocol.Run:
  return protocol.winner(runs_of(summary), summary['direction'])


# --- Derivation --------------------------------------------------------------


def derive(root: pathlib.Path, base_names: list, variant_bases: dict,
           seeds: int = protocol.SEEDS) -> dict:
  """Every workload's protocol outcome, from the summaries under ``root``.

  ``variant_bases`` maps each variant to its base workload. A workload
  whose tuning summary is missing, or whose seed summary holds fewer than
  ``seeds`` runs (a stage still running, or stopped at its
  deadline), is left out (still provisional).
  """
  table = {}
  for name in base_names + sorted(variant_bases):
    tune = read_summary(root, 'tune', name)
    seed_summary = read_summary(root, 'seeds', name)
    if tune is None or seed_summary is None or (
        len(seed_summary['runs']) < seeds):
      continue
    direction = tune['direction']
    best = winning_run(tune)
    seed_runs = runs_of(seed_summary)
    targets = protocol.derive_targets(seed_runs, direction)
    base = variant_bases.get(name)
    horizon = tune['horizon_steps']
    entry = {
      'base': base,
      'metric': tune['metric'],
      'direction': direction,
      'horizon_steps': horizon,
      'validation_target_value': targets.validation_target_value,
      'test_target_value': targets.test_target_value,
      'median_time_to_target': targets.median_time_to_target,
      'median_steps_to_target': targets.median_steps_to_target,
      'time_spread': targets.time_spread(),
      'winner': {'algorithm': best.algorithm, 'trial': best.trial,
                 'best_validation': protocol.best_validation(best, direction),
                 'hyperparameters': best.hyperparameters},
      'tuning': [{'algorithm': r.algorithm, 'trial': r.trial,
                  'status': r.status,
                  'best_validation': protocol.best_validation(r, direction)}
                 for r in runs_of(tune)],
      'seeds': [dict(vars(o)) for o in targets.seeds],
      'first_validation': [run.evals[0].validation
                           for run in seed_runs if run.evals],
      'tuning_hardware': _distinct_hardware(tune),
      'seeds_hardware': _distinct_hardware(seed_summary),
    }
    if base is None:
      entry['max_allowed_runtime_sec'] = targets.budget()
      entry['step_hint'] = protocol.step_hint(horizon)
      entry['eval_period_time_sec'] = protocol.eval_period(
        entry['max_allowed_runtime_sec'])
      entry['eval_every_steps'] = protocol.eval_every_steps(
        entry['eval_period_time_sec'], targets.median_time_to_target,
        targets.median_steps_to_target)
      entry['clock_shares'] = protocol.clock_shares(
        [r.get('clock') for r in seed_summary['runs']],
        [len(r['evals']) for r in seed_summary['runs']],
        entry['max_allowed_runtime_sec'])
    table[name] = entry
  return table


def _distinct_hardware(summary: dict) -> list:
  """Each machine the summary's runs ran on, with how many runs."""
  found = []
  for run in summary['runs']:
    hw = run.get('hardware', summary['hardware'])
    for item in found:
      if item['hardware'] == hw:
        item['runs'] += 1
        break
    else:
      found.append({'hardware': hw, 'runs': 1})
  return found


def self_tuning_point(root: pathlib.Path, base_names: list,
                      table: dict) -> dict | None:
  """Protocol step 7: the baseline's point that does best on every workload.

  ``table`` is ``derive``'s output: the targets the points' runs are held to.
  None until some base workload has targets (a version not yet run).
  """
  if not base_names:
    return None
  runs, directions, targets = {}, {}, {}
  for name in base_names:
    tune = read_summary(root, 'tune', name)
    if tune is None or name not in table:
      return None
    runs[name] = [r for r in runs_of(tune)
                  if r.algorithm == protocol.SELF_TUNING_BASELINE]
    directions[name] = tune['direction']
    targets[name] = table[name]['validation_target_value']
  ranks = protocol.ranks(runs, directions)
  reached = protocol.targets_reached(runs, targets, directions)
  trial = protocol.self_tuning_choice(ranks, reached)
  mean_ranks = protocol.mean_ranks(ranks)
  point = next(r.hyperparameters for r in runs[base_names[0]]
               if r.trial == trial)
  return {'algorithm': protocol.SELF_TUNING_BASELINE, 'trial': trial,
          'mean_rank': mean_ranks[trial], 'mean_ranks': mean_ranks,
          'worst_ranks': {t: max(r) for t, r in ranks.items()},
          'targets_reached': {t: reached.get(t, 0) for t in ranks},
          'hyperparameters': point}


# What the protocol sets for a base alone; its variants inherit them
# (AlgoPerf's held-out variants run under their base's budget).
BASE_FACTS = ('max_allowed_runtime_sec', 'step_hint', 'eval_period_time_sec',
              'eval_every_steps')


def fact_values(entry: dict) -> dict:
  """The class attributes the protocol sets for one workload."""
  keys = ['validation_target_value', 'test_target_value']
  if entry['base'] is None:
    keys += list(BASE_FACTS)
  # Measured by the seed reruns that recorded their clocks.
  return {k: entry[k] for k in keys} | entry.get('clock_shares', {})


# --- docs/targets.md ---------------------------------------------------------


def _fmt(value, digits=4) -> str:
  if value is None:
    return '--'
  if isinstance(value, float):
    if value == float('inf'):
      return 'not reached'
    return f'{value:.{digits}g}' if abs(value) < 1e4 else f'{value:.0f}'
  return str(value)


def _hardware(machines: list) -> str:
  return '; '.join(
    f'{m["runs"]} run(s) on {m["hardware"]["processor"]} '
    f'({m["hardware"]["cpu_count"]} cores, '
    f'{m["hardware"]["concurrent_runs"]} run(s) at a time, '
    f'jax {m["hardware"]["jax"]})' for m in machines)


def _hyperparameters(point: dict) -> str:
  return ', '.join(f'{k}={_fmt(v, 3)}' for k, v in sorted(point.items()))


def _relative(path: str, doc_dir) -> pathlib.PurePosixPath:
  return pathlib.PurePosixPath(path).relative_to(doc_dir)


def _spread(entry: dict) -> str:
  """'fastest-slowest (reached/seeds)' of the seeds' times to target."""
  fastest, slowest, reached = entry['time_spread']
  return (f'{_fmt(fastest)}-{_fmt(slowest)} ({reached}/'
          f'{len(entry["seeds"])})')


def _next_version_lines(version: protocol.Version, doc_dir) -> list:
  """On the current version's page: the later versions, frozen, not run."""
  if version.name != protocol.CURRENT:
    return []
  later = [v for v in protocol.versions_after(version.name)
           if v.budget_range]
  if not later:
    return []
  return ['- Next: ' + '; '.join(
    f'protocol {v.name} ({v.seeds} seeds per winner and variant, search '
    'spaces frozen by sha256, base budgets '
    f'{v.budget_range[0]}-{v.budget_range[1]} s, resolving splits) is '
    f'frozen and not yet run: [{v.doc}]({_relative(v.doc, doc_dir)})'
    for v in later) + '.']


def render(table: dict, provisional: list,
           baseline: dict | None = None,
           version: protocol.Version = protocol.VERSIONS[protocol.CURRENT],
           resolution_table: str | None = None,
           rules_not_met: tuple = ()) -> str:
  """The targets page: the targets, how they were set, and every number.

  ``rules_not_met``: a next version's outcomes that break its rules (what
  ``table --apply --protocol NEXT`` would refuse on), listed on its page.
  """
  doc_dir = pathlib.PurePosixPath(version.doc).parent
  link = pathlib.PurePosixPath(
    *(['..'] * len(doc_dir.relative_to('docs').parts)),
    pathlib.PurePosixPath(version.summaries).relative_to('docs'))
  command = ('scripts/set_targets.py table' if version.name == protocol.CURRENT
             else f'scripts/set_targets.py table --protocol {version.name}')
  lines = [
    '# CPU-suite targets' + (f' ({version.name})'
                             if version.name != protocol.CURRENT else ''),
    '',
    f'Generated by `.venv/bin/python {command}` from the '
    f'run summaries in [`{link}/`]({link}/); do not edit. The '
    f'protocol, version {version.name} '
    '(`algoperf/target_setting/protocol.py`):',
    '',
    f'- Tune {" and ".join(protocol.TUNED_ALGORITHMS)} on each base '
    f'workload, {protocol.BASE_POINTS} quasi-random (Halton) points each '
    '(search spaces in `algoperf/target_setting/spaces/`), every run trained '
    'for the horizon below with no time limit, '
    f'{protocol.EVALS_PER_RUN} evals per run on a step schedule.',
    '- A run\'s best validation metric is the best mean of '
    f'{protocol.SMOOTHING_EVALS} consecutive evals (the validation splits '
    'are small: a best single eval is a maximum of noise).',
    '- Winner: the run with the best (smoothed) validation metric. Rerun its '
    f'hyperparameters with {version.seeds} new seeds, one run at a time.',
    '- Validation target: the median over seeds of the best smoothed '
    'validation metric (rounded to 4 decimals towards easier). A seed '
    'reaches it at its first single eval at or past it, as a scored run '
    'does. Test target: the worst test metric among the seeds at that '
    'eval.',
    f'- Budget: {protocol.BUDGET_FACTOR:.4g} x the median time to the '
    'validation target (submission time, seconds, rounded up). step_hint: '
    f'{protocol.BUDGET_FACTOR:.4g} x the horizon (AlgoPerf v0.5: a schedule '
    'over 0.75 x step_hint replays the target-setting runs).',
    f'- Evals: every budget / {protocol.EVALS_PER_BUDGET} s of submission '
    'time (AlgoPerf\'s time-based schedule), which scored runs take in '
    'steps: eval every (steps) = that period x the median steps to target / '
    'the median time to target, so every machine evaluates at the same '
    'steps.',
    f'- Variants: the base\'s winning algorithm, {protocol.VARIANT_POINTS} '
    f'points, {version.seeds} seeds; budget and step_hint are the base\'s.',
    '- Spread: the fastest and slowest seed times to the validation target '
    '(and how many seeds reached it) are shown beside the median.',
  ] + ([
    f'- Frozen: search spaces by sha256; a base budget must lie in '
    f'{version.budget_range[0]}-{version.budget_range[1]} s and the '
    'bootstrap standard error at each target (`target_standard_error`, '
    '`scripts/target_resolution.py`) within 0.25% abs / 0.5% rel; a '
    'self-tuning study missing every target (each base and its held-out '
    'variant at 3x the base budget) trains at most '
    f'{(version.max_worst_case_study_s or 0) / 60:.0f} min; '
    'compilation takes at most '
    f'{100 * (version.max_compile_share or 0):.0f}% of a base budget and '
    f'{protocol.EVALS_PER_BUDGET} evals per budget at most '
    f'{100 * (version.max_eval_share or 0):.0f}% of a scored run (both '
    'from the seed reruns\' clocks: `compile_share`, `eval_share`; a '
    'scored run reads train and validation at every eval and test once, '
    'at its validation target; the seed reruns time their test passes '
    'apart for that, and where a summary\'s did not, the share counts a '
    'test pass in every eval, an upper bound); '
    'no validation target (base or variant) may be met by a seed\'s '
    'first eval (an untrained model); '
    '`table --check` fails on every workload that does not; a next '
    'version\'s page lists them under "Rules not met yet" instead, and '
    'its `table --apply` refuses.',
  ] if version.budget_range else []) + ([
    '- Timing: every base\'s seed reruns, which set the budgets, run one at '
    'a time on one machine model (processor and core count, named per '
    'workload below); seeds timed elsewhere are rerun there.',
  ] if version.one_timing_machine else []) + _waiver_lines(version) + (
    _next_version_lines(version, doc_dir)) + [
    '',
    '## Targets',
    '',
    '| workload | metric | validation target | test target | budget (s) '
    '| step_hint | eval every (s) | eval every (steps) | horizon | winner '
    '| median time to target (s) | seed times to target (s) |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ]
  for name, e in table.items():
    budget = e.get('max_allowed_runtime_sec', '(base)')
    hint = e.get('step_hint', '(base)')
    period = e.get('eval_period_time_sec', '(base)')
    every = e.get('eval_every_steps', '(base)')
    lines.append(
      f'| {name} | {e["metric"]} ({e["direction"]}) '
      f'| {e["validation_target_value"]} | {e["test_target_value"]} '
      f'| {budget} | {hint} | {period} | {every} | {e["horizon_steps"]} '
      f'| {e["winner"]["algorithm"]} #{e["winner"]["trial"]} '
      f'| {_fmt(e["median_time_to_target"])} | {_spread(e)} |')
  if provisional and version.name != protocol.CURRENT:
    lines += ['', f'Not yet set by protocol {version.name} (the suite file '
              f'keeps its {protocol.CURRENT} targets): '
              + ', '.join(f'`{n}`' for n in provisional) + '.']
  elif provisional:
    lines += ['', 'Still **provisional** (not re-tuned in this round; their '
              'targets are the hand-set ones in algoperf/suites/cpu.json): '
              + ', '.join(f'`{n}`' for n in provisional) + '.']
  if rules_not_met:
    lines += ['', '## Rules not met yet', '',
              f'`table --apply --protocol {version.name}` refuses while any '
              'of these holds; each is fixed by new runs under the frozen '
              'protocol, never by editing a target:', '']
    lines += [f'- {problem}' for problem in rules_not_met]
  lines += ['', '## Per seed', '',
            '| workload | seed | best validation (smoothed) '
            '| first reached at step '
            '| at submission time (s) | test metric there |',
            '|---|---|---|---|---|---|']
  for name, e in table.items():
    for s in e['seeds']:
      lines.append(f'| {name} | {s["rng_seed"]} | {_fmt(s["best_validation"])} '
                   f'| {_fmt(s["reached_step"])} | {_fmt(s["reached_time"])} '
                   f'| {_fmt(s["test_at_reach"])} |')
  lines += ['', '## Winning configurations', '']
  for name, e in table.items():
    w = e['winner']
    lines.append(f'- **{name}**: {w["algorithm"]} (tuning trial {w["trial"]}, '
                 f'best validation {_fmt(w["best_validation"])}): '
                 f'{_hyperparameters(w["hyperparameters"])}')
  lines += ['', '## Tuning runs (best smoothed validation metric per trial)',
            '']
  for name, e in table.items():
    by_alg = {}
    for r in sorted(e['tuning'], key=lambda r: (r['algorithm'], r['trial'])):
      value = _fmt(r['best_validation'])
      by_alg.setdefault(r['algorithm'], []).append(
        value if r['status'] != 'diverged' else f'{value} (diverged)')
    lines.append(f'- **{name}**: ' + '; '.join(
      f'{a} {", ".join(v)}' for a, v in by_alg.items()))
  if baseline:
    ranks = ', '.join(
      f'#{t} {baseline["targets_reached"][t]} / {r:.3g} / '
      f'{baseline["worst_ranks"][t]}'
      for t, r in baseline['mean_ranks'].items())
    lines += ['', '## Self-tuning NAdamW baseline', '',
              f'Protocol step 7: {baseline["algorithm"]} tuning point '
              f'#{baseline["trial"]} does best over the base workloads '
              '(per point: base-workload targets its tuning runs reach / '
              f'mean rank / worst rank: {ranks}); it is '
              '`SELF_TUNING_DEFAULTS` in '
              '`reference_algorithms/nadamw/submission.py`: '
              f'{_hyperparameters(baseline["hyperparameters"])}.']
  if resolution_table is not None:
    lines += ['', '## Resolution: standard error at the targets', '',
              'Bootstrap over examples (1,000 resamples) of the target '
              'metric of each workload\'s protocol winner, trained with one '
              'new seed until its first eval at the validation target (or, '
              'where it never got there, at its best eval: "target not '
              'reached"); `!` marks an SE above issue 18\'s goal (0.25% '
              'absolute for accuracy, SSIM and WER, 0.5% relative for '
              'losses), and "needs n" is the split size that would meet it '
              '(SE ~ 1/sqrt(n)). Records: `docs/targets/resolution/`, made '
              'by `scripts/target_resolution.py measure`; the SE is the '
              '`target_standard_error` fact (`algoperf workloads --details`). '
              'Which data could supply the larger splits, and what exists '
              'of them: [target_resolution.md](target_resolution.md).', '',
              resolution_table]
  lines += ['', '## Hardware', '']
  for name, e in table.items():
    lines.append(f'- **{name}**: tuning on {_hardware(e["tuning_hardware"])}; '
                 f'seeds on {_hardware(e["seeds_hardware"])}.')
  lines += ['', 'Tuning runs are step-limited and evaluated on a step '
            'schedule, so their metrics do not depend on the machine; the '
            'seed reruns of the base workloads, whose times set the budgets, '
            'ran one at a time on the benchmark\'s reference machine.', '']
  return '\n'.join(lines)


# --- The facts source ---------------------------------------------------------


def fact_changes(table: dict) -> dict:
  """{workload: {fact: value}} the protocol sets, provisional flag cleared."""
  return {name: dict(fact_values(entry), targets_are_provisional=False)
          for name, entry in table.items()}


def mismatches(table: dict) -> list:
  """'workload.fact: facts X, table Y' for every disagreement."""
  from algoperf import registry

  found = []
  for name, values in fact_changes(table).items():
    facts = registry.facts(name)
    for attr, value in values.items():
      if getattr(facts, attr) != value:
        found.append(f'{name}.{attr}: {registry.suite().path.name} '
                     f'{getattr(facts, attr)!r}, docs/targets.md {value!r}')
  return found


def main(repo: pathlib.Path, apply_to_code: bool = False,
         check: bool = False, version: str = protocol.CURRENT) -> int:
  """Writes the targets page (and the facts); or checks them (1: stale).

  ``version``: the protocol version; only the current one (the suite
  file's) may write facts, a later one renders its own page.
  """
  from algoperf import registry

  chosen = protocol.version(version)
  root = repo / chosen.summaries
  suite = registry.suite()
  bases = chosen.bases(suite)
  variant_bases = {name: facts.base_name
                   for name, facts in suite.workloads.items()
                   if facts.base_name in bases}
  table = derive(root, list(bases), variant_bases, chosen.seeds)
  if apply_to_code and version != protocol.CURRENT:
    return _start_version(chosen, suite, table, list(bases) + sorted(
      variant_bases))
  # Over the bases the protocol has set: a family added since (still
  # provisional, no tuning runs) must not erase the baseline's record.
  baseline = self_tuning_point(
    root, [n for n in bases if n in table], table)
  provisional = [n for n in suite.workloads if n not in table]
  resolution_table = None
  if version == protocol.CURRENT:  # Measured on the current splits.
    from algoperf.target_setting import resolution_runs

    resolution_table = resolution_runs.plan_table(repo)
  # The current version's broken rules fail --check. A next version's are
  # findings of a protocol in progress: its page lists them (checked as
  # --apply checks them: its standard errors are measured once it is the
  # suite's), so a stale list fails --check as a stale page does.
  current = version == protocol.CURRENT
  broken_rules = rule_problems(table, chosen, standard_errors=current)
  text = render(table, provisional, baseline, chosen, resolution_table,
                () if current else tuple(broken_rules))
  doc = repo / chosen.doc
  if check:
    problems = protocol.check_frozen(chosen, runs_lib().SPACES_DIR)
    if current:
      problems += (mismatches(table) + baseline_mismatches(baseline)
                   + broken_rules)
    if not doc.exists() or doc.read_text() != text:
      problems.append(f'{doc.relative_to(repo)} is stale')
    for p in problems:
      print(p)
    if problems:
      fix = ('--apply' if version == protocol.CURRENT
             else f'--protocol {version}')
      print(f'Fix: .venv/bin/python scripts/set_targets.py table {fix}')
    return 1 if problems else 0
  from algoperf import records

  records.write_atomic(doc, text)
  print(f'wrote {doc.relative_to(repo)} ({len(table)} workloads set by the '
        f'protocol, {len(provisional)} provisional)')
  if apply_to_code:
    path = registry.update_facts(suite.name, fact_changes(table))
    print(f'updated {path}')
  for problem in baseline_mismatches(baseline):
    print(f'{problem}; copy the point from docs/targets.md by hand.')
  for problem in broken_rules:
    print(problem)
  return 0


def _start_version(chosen: protocol.Version, suite, table: dict,
                   workloads: list) -> int:
  """``--apply --protocol NEXT``: the suite file moves to version NEXT.

  Only once the protocol has set every one of the version's workloads and
  its outcomes keep the version's rules; the version it replaces stays
  readable for scoring its logs (``registry.start_version``).
  """
  from algoperf import registry

  if suite.benchmark_version == chosen.name:
    raise runs_lib().TargetSettingError(
      f'{suite.path.name} is at {chosen.name} already; set '
      f"protocol.CURRENT = '{chosen.name}' and run table --apply without "
      '--protocol.')
  missing = [n for n in workloads if n not in table]
  # The standard errors are measured once the version is the suite's, on
  # its splits at its targets; table --check then holds it to them.
  problems = ([f'{n}: not set yet (no tuning summary, or fewer than '
               f'{chosen.seeds} seed runs)' for n in missing]
              + rule_problems(table, chosen, standard_errors=False))
  if problems:
    raise runs_lib().TargetSettingError(
      f'{suite.path.name} stays at {suite.benchmark_version}: protocol '
      f'{chosen.name} cannot set it yet:\n  ' + '\n  '.join(problems))
  changes = {name: dict(values) for name, values in
             chosen.draft_facts.items()}
  for name, values in fact_changes(table).items():
    # Measured at the replaced version's targets: measured again at these
    # (the replaced version keeps its own).
    changes.setdefault(name, {}).update(values, target_standard_error=None)
  # The families the version does not set keep an earlier protocol's
  # targets: runnable, unscored, and shown as provisional.
  for name, facts in suite.workloads.items():
    if name not in table and not facts.targets_are_provisional:
      changes.setdefault(name, {})['targets_are_provisional'] = True
  # A variant that states its own budget (an earlier version's) takes its
  # base's in this one.
  stated = registry.stated_facts(suite.name)
  inherit = {}
  for name, entry in table.items():
    facts = [fact for fact in BASE_FACTS if fact in stated[name]]
    if entry['base'] is not None and facts:
      inherit[name] = facts
  path = registry.start_version(
    suite.name, chosen.name, list(chosen.bases(suite)),
    list(chosen.held_out_draw(suite)), changes, inherit)
  print(f'updated {path}: benchmark {chosen.name}, {suite.benchmark_version} '
        'kept under earlier_versions for scoring its logs. Now set '
        f"protocol.CURRENT = '{chosen.name}' (tests/target_setting checks "
        'it), measure the standard errors on its splits '
        '(scripts/target_resolution.py measure, then apply) and run table '
        '--apply.')
  return 0


def _waiver_lines(version: protocol.Version) -> list:
  """One line per waived rule and reason, naming every workload it
  covers."""
  grouped = {}
  for workload, rules in version.waivers.items():
    for rule, why in rules.items():
      grouped.setdefault((rule, why), []).append(f'`{workload}`')
  return [f'- Waived, decided with the data before the version\'s runs: '
          f'{rule.replace("_", " ")} for {", ".join(names)}, because {why}.'
          for (rule, why), names in grouped.items()]


def runs_lib():
  """``runs`` imports the study machinery: only when a command needs it."""
  from algoperf.target_setting import runs

  return runs


def rule_problems(table: dict, chosen: protocol.Version,
                  standard_errors: bool = True) -> list:
  """'workload: problem' for each base outcome breaking the version's rules
  (``standard_errors``: the split-resolution rule too)."""
  from algoperf import registry

  found = []
  checked = chosen if standard_errors else dataclasses.replace(
    chosen, resolving_splits=False)
  for name, entry in table.items():
    found += [f'{name}: {p} (protocol {chosen.name})'
              for p in protocol.first_eval_problems(
                chosen, entry['validation_target_value'],
                entry['first_validation'], entry['direction'])]
    if entry['base'] is not None:
      continue
    se = registry.facts(name).target_standard_error
    for problem in protocol.problems(
        checked, entry['max_allowed_runtime_sec'], se and se.validation,
        entry['metric'], entry.get('clock_shares'), workload=name):
      found.append(f'{name}: {problem} (protocol {chosen.name})')
  budgets = [e['max_allowed_runtime_sec'] for e in table.values()
             if e['base'] is None]
  found += [f'{p} (protocol {chosen.name})'
            for p in protocol.study_problems(chosen, budgets)]
  timed_on = {name: entry['seeds_hardware'] for name, entry in table.items()
              if entry['base'] is None}
  found += [f'{p} (protocol {chosen.name})'
            for p in protocol.timing_problems(chosen, timed_on)]
  return found


def baseline_mismatches(baseline: dict | None) -> list:
  """Where nadamw's SELF_TUNING_DEFAULTS differ from protocol step 7."""
  if baseline is None:
    return []
  from algoperf import submission as submission_lib
  from algoperf.target_setting import runs

  # Loaded as any submission is, by path.
  module = submission_lib.import_module(
    runs.ALGORITHM_DIRS[protocol.SELF_TUNING_BASELINE])
  defaults = module.SELF_TUNING_DEFAULTS
  return [f'nadamw SELF_TUNING_DEFAULTS[{k!r}] = {defaults.get(k)!r}, '
          f'protocol {v!r}' for k, v in sorted(
            baseline['hyperparameters'].items()) if defaults.get(k) != v]
