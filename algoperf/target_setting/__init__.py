"""The CPU suite's target-setting protocol (``scripts/set_targets.py``).

The arithmetic (``protocol``), the runs and their committed summaries
(``runs``) and the table and facts derived from the summaries (``table``).
"""
