"""Benchmark grids: configs, the cell runner (processes), resume and the lock."""
