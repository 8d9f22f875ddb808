"""Tooling beside the product: the synthetic data generator the demo, tests and benchmarks use."""
