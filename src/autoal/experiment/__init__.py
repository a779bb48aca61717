"""Simulated experiments: the active-learning loop, metrics, plots, the demo and benchmarks."""
