"""Builds the web application from settings: the ledger, its use cases, the accounts, the app.

``insightlog serve`` calls ``build_app``; with several workers each worker process calls
``app_from_env`` (uvicorn's factory), which reads the same ``INSIGHTLOG_*`` settings. This is the
only web module that reads the environment; the lead's composition root (issue 11) replaces it.

``INSIGHTLOG_WEB_SECURE_COOKIES`` (default 1): cookies only over HTTPS; set 0 only for plain-HTTP
development on a host other than localhost. ``INSIGHTLOG_WEB_HSTS=1``: send Strict-Transport-Security
(serve behind TLS). ``INSIGHTLOG_PROVIDER_NAME``: shown in page titles.
``INSIGHTLOG_PASSWORD_MIN_LENGTH`` (default 12, at least 8), ``INSIGHTLOG_SESSION_IDLE_MINUTES``
(default 30), ``INSIGHTLOG_SESSION_HOURS`` (default 12).
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import TYPE_CHECKING

from insightlog.settings import SettingsError

if TYPE_CHECKING:
    from fastapi import FastAPI

    from insightlog.accounts.store import AccountsPolicy
    from insightlog.settings import StoreSettings
    from insightlog.web.config import WebConfig


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    text = value.strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name}={value!r} is not 1 or 0")


def _number(name: str, default: int, minimum: int) -> int:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    try:
        number = int(value)
    except ValueError:
        raise SettingsError(f"{name}={value!r} is not a whole number") from None
    if number < minimum:
        raise SettingsError(f"{name}={value!r} must be at least {minimum}")
    return number


def web_config_from_env() -> WebConfig:
    from insightlog.web.config import WebConfig

    return WebConfig(
        secure_cookies=_flag("INSIGHTLOG_WEB_SECURE_COOKIES", True),
        hsts=_flag("INSIGHTLOG_WEB_HSTS", False),
        provider=os.environ.get("INSIGHTLOG_PROVIDER_NAME") or None,
    )


def accounts_policy_from_env() -> AccountsPolicy:
    from insightlog.accounts.passwords import FLOOR_LENGTH, MIN_LENGTH, PasswordPolicy
    from insightlog.accounts.store import AccountsPolicy

    return AccountsPolicy(
        passwords=PasswordPolicy(min_length=_number("INSIGHTLOG_PASSWORD_MIN_LENGTH", MIN_LENGTH, FLOOR_LENGTH)),
        idle_timeout=timedelta(minutes=_number("INSIGHTLOG_SESSION_IDLE_MINUTES", 30, 1)),
        absolute_timeout=timedelta(hours=_number("INSIGHTLOG_SESSION_HOURS", 12, 1)),
    )


def build_app(
    settings: StoreSettings, config: WebConfig | None = None, policy: AccountsPolicy | None = None
) -> FastAPI:
    """Open the ledger and the accounts of ``settings`` and build the app over them."""
    from insightlog.accounts.store import open_accounts
    from insightlog.application import open_ledger
    from insightlog.web.app import create_app
    from insightlog.web.usecases import LedgerUseCases

    ledger = open_ledger(settings)
    usecases = LedgerUseCases(ledger, settings)
    try:
        accounts = open_accounts(settings, policy=policy)
    except Exception:
        usecases.close()
        raise
    return create_app(accounts, usecases, config, on_close=[usecases.close, accounts.close])


def app_from_env() -> FastAPI:
    """The app of the ``INSIGHTLOG_*`` settings (uvicorn's factory, in each worker process)."""
    from insightlog.settings import resolve

    return build_app(resolve(), web_config_from_env(), accounts_policy_from_env())
