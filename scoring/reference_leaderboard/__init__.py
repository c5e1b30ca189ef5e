"""The CPU-suite leaderboard's page (``scripts/cpu_leaderboard.py``).

Copying the logs scoring needs (``pack``), scoring them and writing the
page (``page``, ``readme``). The trials themselves are run by
``algoperf.reference_leaderboard``, which also owns the run record.
"""
