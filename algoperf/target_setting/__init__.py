"""The CPU suite's target-setting protocol (``scripts/set_targets.py``):
``protocol`` (arithmetic), ``runs`` and ``stages`` (runs and summaries),
``table`` (docs/targets.md and the facts, from the summaries)."""
