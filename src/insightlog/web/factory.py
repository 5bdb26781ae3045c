"""Builds the web application from the composition root's ``Config``: the house, the accounts,
the app. No environment is read here (``insightlog.bootstrap`` does that).

``insightlog serve`` calls ``build_app``; with several workers each worker process calls
``app_from_env`` (uvicorn's factory), which builds the ``Config`` from the same ``INSIGHTLOG_*``
settings the parent exported (``bootstrap.store_environment``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from insightlog.accounts.store import AccountsPolicy
    from insightlog.bootstrap import Config
    from insightlog.web.config import WebConfig


def web_config(config: Config) -> WebConfig:
    from insightlog.web.config import WebConfig

    web = config.web
    return WebConfig(secure_cookies=web.secure_cookies, hsts=web.hsts, provider=web.provider)


def accounts_policy(config: Config) -> AccountsPolicy:
    from insightlog.accounts.passwords import PasswordPolicy
    from insightlog.accounts.store import AccountsPolicy

    web = config.web
    return AccountsPolicy(
        passwords=PasswordPolicy(min_length=web.password_min_length),
        idle_timeout=timedelta(minutes=web.session_idle_minutes),
        absolute_timeout=timedelta(hours=web.session_hours),
    )


def build_app(config: Config) -> FastAPI:
    """Open the store and the accounts of ``config`` and build the app over them."""
    from insightlog.accounts.store import open_accounts
    from insightlog.bootstrap import House
    from insightlog.web.app import create_app
    from insightlog.web.usecases import LedgerUseCases

    house = House(config)
    usecases = LedgerUseCases(house)
    try:
        house.ledger  # noqa: B018 - open the store now: fail here, not in the first request
        accounts = open_accounts(config.store, policy=accounts_policy(config))
    except Exception:
        usecases.close()
        raise
    return create_app(accounts, usecases, web_config(config), on_close=[usecases.close, accounts.close])


def app_from_env() -> FastAPI:
    """The app of the ``INSIGHTLOG_*`` settings (uvicorn's factory, in each worker process)."""
    from insightlog.bootstrap import config_from_env

    return build_app(config_from_env())
