"""A connection that may read the store but not write the read models: the view is shown as it
stands, with the database's reason, and the same refusal test serves the ledger and the read models."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tests.integration.readmodels.conftest import SERVICE, harbour_text


def test_read_models_this_connection_may_not_write_are_shown_as_they_stand_with_the_reason(make_store) -> None:  # type: ignore[no-untyped-def]
    from insightlog.projections.database import engine_for, writer

    store = make_store()
    lines = harbour_text()
    store.ledger.import_lines(lines[:-1], source_name="first.jsonl")
    store.models.catch_up()
    store.ledger.import_lines(lines[-1:], source_name="last.jsonl")
    # The read models' writes now go through a connection the database opens read-only.
    refusing = engine_for(replace(store.settings, read_only=True))
    store.models.view.write_engine = writer(refusing)
    try:
        result = store.models.governance(SERVICE)
    finally:
        refusing.dispose()

    reason = (
        "cannot execute UPDATE in a read-only transaction"
        if store.settings.database_url
        else "attempt to write a readonly database"
    )
    assert result.source == "read_models"
    assert result.note == f"cannot update the read models here ({reason}); shown as they stand"
    assert result.entries_behind == 1
    assert result.rows and {r["service"] for r in result.rows} == {SERVICE}
    assert store.models.read_only


def test_only_a_refused_write_is_a_refusal_whatever_wraps_it() -> None:
    from insightlog.storage.guards import GUARD_MESSAGE, write_refusal

    class DriverError(Exception):
        def __init__(self, message: str, sqlstate: str | None) -> None:
            super().__init__(message)
            self.sqlstate = sqlstate

    def wrapped(inner: BaseException) -> BaseException:
        try:
            try:
                raise inner
            except Exception as exc:
                raise RuntimeError("the library's own error\nwith a second line") from exc
        except RuntimeError as outer:
            return outer

    class Wrapper(Exception):
        orig: Any = DriverError("permission denied for table rm_events\nDETAIL: none", "42501")

    assert (
        write_refusal(wrapped(DriverError("permission denied for table x", "42501"))) == "permission denied for table x"
    )
    assert write_refusal(wrapped(DriverError("cannot execute INSERT in a read-only transaction", "25006"))) is not None
    assert write_refusal(wrapped(ValueError(GUARD_MESSAGE))) == GUARD_MESSAGE
    assert (
        write_refusal(Wrapper("(psycopg.errors.InsufficientPrivilege) permission denied"))
        == "permission denied for table rm_events"
    )
    assert write_refusal(wrapped(DriverError("duplicate key value violates unique constraint", "23505"))) is None
    assert write_refusal(ValueError("database is locked")) is None
