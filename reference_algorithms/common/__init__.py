"""Machinery shared by the reference submissions (train step, NAdamW, ...)."""
