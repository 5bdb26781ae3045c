"""The one root of every error insightlog reports to a user, and the errors every layer shares.

Every error a user can cause derives from ``InsightlogError``; its message is one line for the
user. The CLI (and the web application) translate it in one place; anything else is a bug.
"""

from __future__ import annotations


def one_line(exc: BaseException) -> str:
    """The first line of an exception's message, or its class name when it has none: how any
    error is told to a user in one line."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class InsightlogError(Exception):
    """Raised for anything a user can cause; the message is one line for the user."""

    exit_code = 1


class LedgerError(InsightlogError):
    """Raised for a user error the ledger refuses."""


class ServiceNotFoundError(LedgerError):
    """Raised when a service has no events in the store."""


class ReadOnlyError(LedgerError):
    """Raised when a write is attempted on a store opened read-only."""


class StoredDataError(LedgerError):
    """Raised when a stored row cannot be read as the ledger wrote it: the store was changed
    outside insightlog (``insightlog verify`` names the row)."""


class ConflictError(LedgerError):
    """Raised when concurrent writers kept conflicting after the bounded retries."""


class SettingsError(InsightlogError):
    """Raised when the storage settings cannot be used."""
