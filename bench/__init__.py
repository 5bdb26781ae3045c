"""The insightlog benchmark suite: ``python bench/run.py --size full`` (see docs/performance.md)."""
