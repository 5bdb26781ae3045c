"""Errors of the analysis: bad input (a user's data) and broken invariants (a bug)."""

from __future__ import annotations


class AnalysisInputError(ValueError):
    """Raised when the entries given to the analysis break an interchange invariant."""


class AnalysisInvariantError(RuntimeError):
    """Raised when a result the rules guarantee is missing: a bug in the engine, not the data."""
