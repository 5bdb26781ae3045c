"""The accounts tables under attack by someone with the database owner's rights, and under
concurrent writers: the access log refuses edits, and any edit that bypasses that is found."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import text

from insightlog.accounts.chain import FIELDS
from insightlog.accounts.errors import AccountError, PasswordRejectedError
from insightlog.accounts.rights import Right
from insightlog.accounts.store import By
from tests.integration.web.conftest import CLI, PASSWORD, SERVICE, Site


def fill(site: Site, count: int = 6) -> None:
    site.add("Ann Lee")
    for i in range(count):
        site.accounts.log("viewed", By(via="web", client="10.0.0.1"), subject=SERVICE, detail={"n": i})


def raw(site: Site, sql: str) -> Any:
    with site.accounts.write_engine.begin() as conn:
        return conn.execute(text(sql))


def bypass_guards(site: Site) -> None:
    """What a database owner can do: switch the append-only triggers off."""
    if site.accounts.is_postgres:
        raw(site, "ALTER TABLE web_access_log DISABLE TRIGGER USER")
    else:
        raw(site, "DROP TRIGGER web_access_log_refuse_update")
        raw(site, "DROP TRIGGER web_access_log_refuse_delete")


@pytest.mark.parametrize(
    "statement",
    ["UPDATE web_access_log SET event = 'nothing' WHERE seq = 2", "DELETE FROM web_access_log WHERE seq = 2"],
)
def test_the_access_log_refuses_updates_and_deletes(site: Site, statement: str) -> None:
    fill(site)
    with pytest.raises(Exception, match="append-only"):
        raw(site, statement)
    assert site.accounts.verify_access_log().ok


def test_the_access_log_cannot_be_emptied_at_once(site: Site) -> None:
    fill(site)
    statement = (
        "TRUNCATE web_access_log" if site.accounts.is_postgres else "DELETE FROM web_access_log"
    )  # SQLite has no TRUNCATE
    with pytest.raises(Exception, match="append-only"):
        raw(site, statement)
    assert site.accounts.verify_access_log().rows == 7


def test_a_changed_byte_in_any_column_of_any_row_is_found(site: Site) -> None:
    fill(site)
    bypass_guards(site)
    rows = list(site.accounts.iter_access_log())
    for seq in (1, len(rows) // 2, len(rows)):
        for column in (*FIELDS, "prev_hash", "hash"):
            if column == "seq":
                continue
            original = rows[seq - 1][column]
            if column == "user_id":
                changed: Any = (original or 0) + 1
            else:
                changed = "x" + original if original else "changed"
            with site.accounts.write_engine.begin() as conn:
                conn.execute(text(f"UPDATE web_access_log SET {column} = :v WHERE seq = :s"), {"v": changed, "s": seq})
            report = site.accounts.verify_access_log()
            assert not report.ok and report.bad_seq in (seq, seq + 1), (seq, column, report)
            with site.accounts.write_engine.begin() as conn:
                conn.execute(text(f"UPDATE web_access_log SET {column} = :v WHERE seq = :s"), {"v": original, "s": seq})
            assert site.accounts.verify_access_log().ok


def test_removed_rows_are_found_in_the_middle_and_against_a_noted_head_at_the_end(site: Site) -> None:
    fill(site)
    head = site.accounts.verify_access_log()
    bypass_guards(site)
    last = head.rows
    raw(site, f"DELETE FROM web_access_log WHERE seq = {last}")
    # Check a cut at the end leaves a valid chain, found only against the head noted before.
    assert site.accounts.verify_access_log().ok
    report = site.accounts.verify_access_log(expected_head=(head.head_seq, head.head_hash))
    assert not report.ok and "gone" in (report.problem or "")
    raw(site, "DELETE FROM web_access_log WHERE seq = 3")
    report = site.accounts.verify_access_log()
    assert not report.ok and report.bad_seq == 3


def test_concurrent_writers_keep_one_unbroken_chain(site: Site) -> None:
    site.add("Ann Lee")
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(15):
                site.accounts.log("viewed", By(via="web"), subject=SERVICE, detail={"thread": n, "i": i})
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    report = site.accounts.verify_access_log()
    assert report.ok and report.rows == 1 + 4 * 15


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"role": "cook"}, "unknown role 'cook'"),
        ({"rights": {Right.JUDGE}}, "'judge' is for leadership roles only"),
        ({"password": "qwerty123456"}, "most commonly used passwords"),
        ({"password": "QWERTY123456"}, "most commonly used passwords"),
        ({"password": "short one"}, "must be at least 12"),
        ({"name": "Bea Other Person", "password": "bea other person"}, "account's name or staff id"),
        ({"name": "  "}, "the name must not be empty"),
        ({"name": "Ann\nLee"}, "control characters"),
        ({"name": "ANN LEE"}, "an account named 'ANN LEE' already exists"),
        ({"staff_id": "QL-1"}, "staff id 'QL-1' already exists"),
    ],
)
def test_accounts_the_rules_refuse_are_not_written(site: Site, change: dict[str, Any], message: str) -> None:
    site.accounts.add_user("Ann Lee", "QL-1", "quality_lead", {Right.VIEW}, [SERVICE], PASSWORD, by=CLI)
    before = site.dump(), site.events()
    args: dict[str, Any] = {
        "name": "Bea Other",
        "staff_id": "QL-2",
        "role": "quality_lead",
        "rights": {Right.VIEW},
        "services": [SERVICE],
        "password": PASSWORD,
    }
    args.update(change)
    with pytest.raises((AccountError, PasswordRejectedError), match=message):
        site.accounts.add_user(
            args["name"], args["staff_id"], args["role"], args["rights"], args["services"], args["password"], by=CLI
        )
    assert (site.dump(), site.events()) == before


def test_passwords_are_stored_as_argon2id_hashes_only(site: Site) -> None:
    site.add("Ann Lee")
    stored = raw(site, "SELECT password_hash FROM web_users").scalar()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    with site.accounts.engine.connect() as conn:
        tables = [r[0] for r in conn.execute(text("SELECT * FROM web_sessions"))]
    assert tables == []
