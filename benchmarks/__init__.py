"""Benchmarks and quality measurements, each run beside the naive baseline."""
