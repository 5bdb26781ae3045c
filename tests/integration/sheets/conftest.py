"""Fixtures for these tests (none yet: the shared ones are in tests/conftest.py)."""
