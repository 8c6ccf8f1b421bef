"""Benchmarks of image_example_gen; see benchmarks/ingest_benchmark.py."""
