"""Workloads: one package per family. Look them up through ``registry``."""
