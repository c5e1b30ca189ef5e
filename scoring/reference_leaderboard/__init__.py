"""The CPU-suite leaderboard's page (``scripts/cpu_leaderboard.py``): ``pack``
copies the logs scoring needs, ``page`` and ``readme`` score and render."""
