"""The CPU-suite leaderboard's training side (``scripts/cpu_leaderboard.py``).

Which held-out trials to run (``held_out``), the resumable study rounds
(``runs``), the run record the page shows (``run_info``) and setting a
family's trials aside (``forget``). Reading the logs back, scoring them and
rendering the page is ``scoring.reference_leaderboard``'s part.
"""
