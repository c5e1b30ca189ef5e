"""Scoring: time-to-target, performance profiles, scores, leaderboards.

Reads experiment directories in AlgoPerf's layout (ours and AlgoPerf's
published logs) and reproduces AlgoPerf's official scoring. It reads files
only: nothing here imports JAX, and the scoring path itself needs neither
pandas nor numpy, so that scoring a pool of logs takes well under a second.
Only ``scoring.plots`` imports matplotlib.

Entry point for library use: ``scoring.pipeline.score_experiments``.
"""
