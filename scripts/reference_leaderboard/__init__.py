"""The CPU-suite leaderboard of the reference algorithms.

``scripts/cpu_leaderboard.py`` is the entry point (run, pack, page); this
package holds its parts: which held-out trials to run (``held_out``), the
resumable study rounds (``runs``), the run record shown on the page
(``run_info``), copying the logs scoring needs (``pack``) and the generated
page (``page``, ``readme``).
"""
