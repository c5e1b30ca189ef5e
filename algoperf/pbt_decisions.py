"""Population-based training: exploit and explore (Jaderberg et al. 2017).

Pure functions of the members' scores, their hyperparameters, the search
space and a seeded ``numpy`` generator, so every decision can be replayed
from the log (``replay``). The driver is ``algoperf/pbt.py``.

Exploit (truncation selection): members are ranked by their last
validation value of the target metric (NaN last, ties by member number);
each of the bottom ``quantile`` copies the weights, optimizer state and
hyperparameters of a member of the top ``quantile`` drawn at random.
Explore: each copied hyperparameter with a range is multiplied by a factor
drawn from ``PERTURB_FACTORS`` and clipped to the range; one with feasible
points is redrawn among them with probability ``RESAMPLE_PROBABILITY``
(else kept). Names outside the search space are kept.
"""

import math

PERTURB_FACTORS = (0.8, 1.2)
RESAMPLE_PROBABILITY = 0.25
EXPLOIT = 'exploit'
KEEP = 'keep'


def rank(scores: dict, direction: str) -> list:
  """Member numbers, best first (``direction``: 'max' or 'min')."""
  sign = -1.0 if direction == 'max' else 1.0

  def key(member):
    value = scores[member]
    missing = value is None or math.isnan(value)
    return (missing, 0.0 if missing else sign * value, member)

  return sorted(scores, key=key)


def explore(hyperparameters: dict, space, rng) -> tuple[dict, dict]:
  """(perturbed copy, {name: what changed}) of ``hyperparameters``."""
  new, changes = dict(hyperparameters), {}
  ranges = space if isinstance(space, dict) else {}
  for name in sorted(hyperparameters):
    spec = ranges.get(name)
    value = hyperparameters[name]
    if spec is None:
      if isinstance(space, list) and _is_number(value):
        factor = float(rng.choice(PERTURB_FACTORS))  # A list space: no range.
        new[name] = value * factor
        changes[name] = {'factor': factor}
      continue
    if 'feasible_points' in spec:
      if rng.random() < RESAMPLE_PROBABILITY:
        points = spec['feasible_points']
        new[name] = points[int(rng.integers(len(points)))]
        changes[name] = {'resampled': new[name]}
      continue
    factor = float(rng.choice(PERTURB_FACTORS))
    new[name] = min(max(value * factor, spec['min']), spec['max'])
    changes[name] = {'factor': factor}
  return new, changes


def _is_number(value) -> bool:
  return isinstance(value, (int, float)) and not isinstance(value, bool)


def decide(scores: dict, hyperparameters: dict, space, rng, direction: str,
           quantile: float = 0.25) -> list[dict]:
  """One decision per member of ``scores`` (member -> last value), in
  member order. Needs at least two members to exploit anyone."""
  if not 0 < quantile <= 0.5:
    raise ValueError(f'PBT quantile must be in (0, 0.5], got {quantile}.')
  order = rank(scores, direction)
  count = int(len(order) * quantile) if len(order) >= 2 else 0
  count = max(count, 1) if len(order) >= 2 else 0
  top, bottom = order[:count], order[len(order) - count:]
  decisions = {m: {'member': m, 'action': KEEP, 'score': scores[m]}
               for m in order}
  for member in bottom:
    donor = top[int(rng.integers(len(top)))]
    new, changes = explore(hyperparameters[donor], space, rng)
    decisions[member].update(
      action=EXPLOIT, donor=donor, donor_score=scores[donor],
      hyperparameters_before=hyperparameters[member],
      hyperparameters_after=new, explored=changes)
  return [decisions[m] for m in sorted(decisions)]


def replay(generations: list[dict], space, rng, direction: str,
           quantile: float) -> list[list[dict]]:
  """The decisions ``decide`` makes again from logged generations (each
  {'scores': {member: value}, 'hyperparameters': {member: dict}})."""
  return [decide({int(m): v for m, v in g['scores'].items()},
                 {int(m): h for m, h in g['hyperparameters'].items()},
                 space, rng, direction, quantile) for g in generations]
