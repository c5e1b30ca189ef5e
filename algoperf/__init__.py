"""A benchmark harness for neural-network training algorithms.

Compatible with MLCommons AlgoPerf: submissions import ``algoperf.spec`` and
``algoperf.jax_sharding_utils`` exactly as they do there.
"""

__version__ = '0.1.0'
