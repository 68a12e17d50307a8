"""Benchmarks for pa-archive (run as modules, e.g. ``python -m bench.minhash_bench``)."""
