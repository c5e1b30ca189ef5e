"""From committed run summaries to targets: docs/targets.md and the code.

Reads only ``docs/targets/runs/`` (no runs, no JAX until ``--apply`` or
``--check`` looks at the workload classes), so anyone can reproduce the
table from the repository.
"""

import json
import pathlib
from typing import Optional

from scripts.target_setting import protocol


def read_summary(root: pathlib.Path, kind: str,
                 workload: str) -> Optional[dict]:
  path = pathlib.Path(root) / kind / f'{workload}.json'
  if not path.exists():
    return None
  with open(path) as f:
    return json.load(f)


def _runs(summary: dict) -> list:
  """The protocol's view of a summary's runs."""
  return [protocol.Run(
    workload=r['workload'], algorithm=r['algorithm'], study=r['study'],
    trial=r['trial'], rng_seed=r['rng_seed'],
    hyperparameters=r['hyperparameters'], status=r['status'],
    evals=tuple(protocol.Eval(int(s), float(t), float(v), float(te))
                for s, t, v, te in r['evals'])) for r in summary['runs']]


def winning_run(summary: dict) -> protocol.Run:
  return protocol.winner(_runs(summary), summary['direction'])
