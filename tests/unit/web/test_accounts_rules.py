"""The accounts' pure rules: passwords, throttling, rights, the second factor, the log's chain."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
import pytest

from insightlog.accounts import chain, totp
from insightlog.accounts.errors import AccountError, PasswordRejectedError
from insightlog.accounts.passwords import TEST_PARAMETERS, Hasher, PasswordPolicy, check_password, common_passwords
from insightlog.accounts.rights import Right, check_rights_for_role, needs_second_factor, parse_rights, rights_text
from insightlog.accounts.throttle import ThrottlePolicy
from insightlog.interchange.kinds import ACTOR_ROLES, LEADERSHIP_ROLES


@pytest.mark.parametrize(
    "password", ["correct horse battery", "three random words", "Zebra-lamp-cloud", "ünïcödé pass phrase", "x" * 1024]
)
def test_long_passwords_without_any_composition_rule_are_accepted(password: str) -> None:
    assert check_password(password) == password


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "is 5 characters; it must be at least 12"),
        ("x" * 1025, "longer than 1024"),
        ("qwerty123456", "most commonly used"),
        ("QWERTY123456", "most commonly used"),
        ("   qwerty123456  ", "most commonly used"),
        (" " * 12, "most commonly used passwords|only spaces"),
    ],
)
def test_short_long_and_common_passwords_are_refused(password: str, message: str) -> None:
    with pytest.raises(PasswordRejectedError, match=message):
        check_password(password)


def test_the_deny_list_is_the_shipped_10000_and_a_shorter_minimum_uses_it() -> None:
    assert len(common_passwords()) == 10_000
    assert "password" in common_passwords() and "123456" in common_passwords()
    with pytest.raises(PasswordRejectedError, match="most commonly used"):
        check_password("password", policy=PasswordPolicy(min_length=8))
    with pytest.raises(ValueError, match="below 8"):
        PasswordPolicy(min_length=6)


def test_the_accounts_own_name_or_staff_id_is_refused() -> None:
    with pytest.raises(PasswordRejectedError, match="name or staff id"):
        check_password("Margaret Thatcher", personal=("margaret thatcher", "RM-1"))


def test_passwords_typed_in_different_unicode_forms_are_the_same() -> None:
    hasher = Hasher(TEST_PARAMETERS)
    composed, decomposed = "caf\u00e9 au lait please", "cafe\u0301 au lait please"
    assert hasher.verify(hasher.hash(composed), decomposed)
    assert not hasher.verify(hasher.hash(composed), "cafe au lait please")
    assert not hasher.verify(None, composed)  # no account: no match, whatever is typed


def test_production_hashes_are_argon2id_with_rfc9106_low_memory_parameters() -> None:
    encoded = Hasher().hash("correct horse battery")
    assert encoded.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


@pytest.mark.parametrize(("failures", "wait"), [(0, 0), (2, 0), (3, 2), (4, 4), (5, 8), (12, 900), (30, 900)])
def test_throttling_doubles_the_wait_after_the_free_attempts(failures: int, wait: int) -> None:
    assert ThrottlePolicy().wait_after(failures) == timedelta(seconds=wait)


def test_lock_out_comes_at_the_tenth_failure() -> None:
    policy = ThrottlePolicy()
    assert next(n for n in range(1, 15) if policy.locks(n)) == 10
    last = datetime(2026, 1, 1, tzinfo=UTC)
    assert policy.retry_at(2, last) is None and policy.retry_at(3, last) == last + timedelta(seconds=2)


def test_rights_parse_and_judge_is_for_leadership_roles_only() -> None:
    assert parse_rights("record, VIEW,,") == {Right.RECORD, Right.VIEW}
    with pytest.raises(AccountError, match="unknown right 'write'"):
        parse_rights("view,write")
    for role in ACTOR_ROLES:
        if role in LEADERSHIP_ROLES:
            check_rights_for_role(role, {Right.JUDGE})
        else:
            with pytest.raises(AccountError, match="leadership roles only"):
                check_rights_for_role(role, {Right.JUDGE})
    assert rights_text({Right.VIEW, Right.ADMIN, Right.RECORD}) == "record,view,admin"


def test_the_second_factor_rule_covers_admins_and_leaders() -> None:
    assert needs_second_factor("quality_lead", {Right.ADMIN})
    assert needs_second_factor("registered_manager", {Right.VIEW})
    assert not needs_second_factor("quality_lead", {Right.VIEW, Right.RECORD})


def test_a_code_is_accepted_in_its_step_and_the_next_and_never_twice() -> None:
    secret = totp.new_secret()
    now = datetime(2026, 7, 1, 9, 0, 15, tzinfo=UTC)
    code = pyotp.TOTP(secret).at(now)
    step = totp.accepted_step(secret, code, now, None)
    assert step == totp.step_of(now)
    assert totp.accepted_step(secret, code, now, step) is None  # replay
    assert totp.accepted_step(secret, code, now + timedelta(seconds=30), None) == step  # a slow typist
    assert totp.accepted_step(secret, code, now + timedelta(seconds=90), None) is None  # too late
    assert totp.accepted_step(secret, code[:3] + " " + code[3:], now, None) == step
    for bad in ("", "12345", "1234567", "abcdef", str((int(code) + 1) % 1_000_000).zfill(6)):
        assert totp.accepted_step(secret, bad, now, None) is None


def rows(n: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    prev = chain.GENESIS
    for seq in range(1, n + 1):
        row: dict[str, Any] = {
            "seq": seq,
            "at": f"2026-07-01T09:00:{seq:02d}Z",
            "event": "viewed",
            "user_id": 1,
            "user_name": "Ann",
            "staff_id": "QL-1",
            "via": "web",
            "client": "10.0.0.1",
            "subject": "A",
            "detail": f'{{"n":{seq}}}',
        }
        row["prev_hash"] = prev
        row["hash"] = prev = chain.row_hash(prev, row)
        out.append(row)
    return out


def test_the_chain_of_an_untouched_log_verifies() -> None:
    report = chain.verify_chain(rows(5))
    assert report.ok and report.rows == 5 and report.head_hash == rows(5)[-1]["hash"]
    assert chain.verify_chain([]).ok


@pytest.mark.parametrize("field", [*chain.FIELDS, "prev_hash", "hash"])
def test_any_change_to_any_field_of_any_row_breaks_the_chain_there(field: str) -> None:
    for index in range(5):
        log = rows(5)
        value = log[index][field]
        log[index][field] = value + 7 if isinstance(value, int) else value + " "
        report = chain.verify_chain(log)
        assert not report.ok and report.bad_seq in (index + 1, index + 2), (field, index)


def test_removed_inserted_and_reordered_rows_break_the_chain() -> None:
    log = rows(5)
    assert not chain.verify_chain(log[:2] + log[3:]).ok
    assert not chain.verify_chain([log[1], log[0], *log[2:]]).ok
    assert not chain.verify_chain([*log[:2], log[2], log[2], *log[3:]]).ok
    cut = log[:3]
    assert chain.verify_chain(cut).ok  # a cut at the end is only seen against a noted head...
    assert not chain.verify_chain(cut, expected_head=(5, log[4]["hash"])).ok
    assert chain.verify_chain(log, expected_head=(5, log[4]["hash"])).ok
    assert not chain.verify_chain(rows(5), expected_head=(3, "0" * 64)).ok
