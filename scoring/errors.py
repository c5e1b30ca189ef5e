"""Scoring errors and the warnings collected while reading logs."""

import collections
import dataclasses

from algoperf.errors import AlgoperfError


class ScoringError(AlgoperfError):
  """Bad scoring input: unreadable logs, unknown targets, mixed versions."""


# Problem kinds that --strict turns from warnings into errors: counts that
# do not match what the rules expect (AlgoPerf's own strict mode).
COUNT_KINDS = frozenset({
  'workload count', 'study count', 'trial count', 'unknown workload',
})


@dataclasses.dataclass(frozen=True)
class Problem:
  kind: str  # short category, e.g. 'truncated csv', 'trial count'.
  path: str  # the file or directory concerned.
  detail: str  # one sentence: what is wrong and what it means for scoring.

  def __str__(self):
    return f'{self.path}: {self.detail}'


class Problems:
  """Collects warnings; reports them grouped by kind, a few examples each."""

  def __init__(self):
    self.items: list[Problem] = []

  def add(self, kind: str, path, detail: str) -> None:
    self.items.append(Problem(kind, str(path), detail))

  def __len__(self):
    return len(self.items)

  def by_kind(self) -> dict[str, list[Problem]]:
    groups = collections.defaultdict(list)
    for item in self.items:
      groups[item.kind].append(item)
    return dict(groups)

  def raise_if_strict(self, strict: bool) -> None:
    """Under --strict, count mismatches are errors (as in AlgoPerf)."""
    if not strict:
      return
    counts = [p for p in self.items if p.kind in COUNT_KINDS]
    if counts:
      listed = ' '.join(str(p) for p in counts[:5])
      more = f' (and {len(counts) - 5} more)' if len(counts) > 5 else ''
      raise ScoringError(
        f'--strict: {len(counts)} count mismatch(es): {listed}{more} Fix '
        'or complete the logs, or score without --strict to treat them as '
        'warnings.'
      )

  def summary_lines(self, examples: int = 2) -> list[str]:
    lines = []
    for kind, items in self.by_kind().items():
      lines.append(f'warning: {kind} ({len(items)}):')
      lines.extend(f'  {item}' for item in items[:examples])
      if len(items) > examples:
        lines.append(f'  ... and {len(items) - examples} more')
    return lines
