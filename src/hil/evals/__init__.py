"""Benchmarks and the evaluations that run on them."""
