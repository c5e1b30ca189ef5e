"""The CPU-suite leaderboard's trials (``scripts/cpu_leaderboard.py``):
``held_out`` (which variants to run), ``runs``, ``run_info`` (the record
the page shows), ``forget``. The page is ``scoring.reference_leaderboard``."""
