"""The errors of the accounts package: each message is one line for the user."""

from __future__ import annotations

from insightlog.errors import InsightlogError


class AccountError(InsightlogError):
    """Raised for an account operation the rules refuse; the message is one line for the user."""


class UnknownUserError(AccountError):
    """Raised when no account has the given name."""


class PasswordRejectedError(AccountError):
    """Raised when a new password breaks the password policy."""


class AccessLogTamperedError(AccountError):
    """Raised when the access log's hash chain does not verify."""
