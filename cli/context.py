"""What every command receives: the root options, resolved into the house on first use."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast

if TYPE_CHECKING:
    from insightlog.application.ledger import Ledger
    from insightlog.application.usecases import UseCases
    from insightlog.bootstrap import Config, House
    from insightlog.interchange.timeutil import AsOf
    from insightlog.storage.settings import StoreSettings


class Context:
    """Built once by the root group; builds the configuration and the house on first use."""

    def __init__(
        self,
        db: str | None = None,
        database_url: str | None = None,
        read_only: bool | None = None,
        key: str | None = None,
        checkpoint_file: str | None = None,
    ) -> None:
        self.db = db
        self.database_url = database_url
        self.read_only = read_only
        self.key = key
        self.checkpoint_file = checkpoint_file
        self._config: Config | None = None
        self._house: House | None = None
        self.may_create = False  # set by the commands that write (see ``creates_store``)

    @property
    def config(self) -> Config:
        if self._config is None:
            from insightlog.bootstrap import config_from_env

            self._config = config_from_env(
                db=self.db,
                database_url=self.database_url,
                read_only=self.read_only,
                key=self.key,
                checkpoint_file=self.checkpoint_file,
            )
        return self._config

    @property
    def settings(self) -> StoreSettings:
        return self.config.store

    @property
    def house(self) -> House:
        if self._house is None:
            from insightlog.bootstrap import build

            self._house = build(self.config, may_create=self.may_create)
        return self._house

    @property
    def app(self) -> UseCases:
        """The use cases of the store: what every command calls."""
        return self.house.usecases

    @property
    def ledger(self) -> Ledger:
        return self.house.ledger

    def close(self) -> None:
        if self._house is not None:
            self._house.close()


F = TypeVar("F", bound=Callable[..., Any])


def creates_store(command: F) -> F:
    """Mark a command that may create the store (only writing commands do)."""

    @functools.wraps(command)
    def wrapper(obj: Context, *args: Any, **kwargs: Any) -> Any:
        obj.may_create = True
        return command(obj, *args, **kwargs)

    return cast(F, wrapper)


def parse_as_of(value: str | None) -> AsOf:
    """``--as-of`` (RFC 3339 or a date), or now."""
    from insightlog.interchange.timeutil import now_as_of
    from insightlog.interchange.timeutil import parse_as_of as _parse

    if value is None:
        return now_as_of(datetime.now(tz=UTC))
    return _parse(value)
