"""``insightlog users`` and ``insightlog serve`` on SQLite and PostgreSQL: passwords never as
arguments, one-line errors with nothing written, the access log checked from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tests.helpers import HARBOUR, invoke

SERVICE = "Harbour Home Care"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def args(stores: Any) -> list[str]:
    settings = stores.new()
    base = stores.cli_args(settings)
    assert invoke([*base, "import", str(HARBOUR)]).exit_code == 0
    return base


def users(args: list[str]) -> list[dict[str, Any]]:
    result = invoke([*args, "users", "list", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def add(args: list[str], name: str = "Ann Lee", *extra: str, password: str = PASSWORD) -> Any:
    base = [
        "users",
        "add",
        name,
        "--staff-id",
        f"ID-{len(name)}-{name[:3]}",
        "--role",
        "quality_lead",
        "--services",
        SERVICE,
    ]
    return invoke([*args, *base, *extra], input=password + "\n")


def test_users_add_reads_the_password_from_standard_input(args: list[str]) -> None:
    result = add(args, "Ann Lee", "--rights", "record,view")
    assert result.exit_code == 0, result.output
    assert result.stdout == "added Ann Lee (ID-7-Ann, quality_lead): rights record,view; services Harbour Home Care\n"
    assert PASSWORD not in result.output
    [row] = users(args)
    assert (row["name"], row["rights"], row["services"], row["status"]) == (
        "Ann Lee",
        ["record", "view"],
        [SERVICE],
        "active",
    )


def test_a_password_is_never_an_argument(args: list[str]) -> None:
    result = invoke(
        [
            *args,
            "users",
            "add",
            "Ann Lee",
            "--staff-id",
            "X",
            "--role",
            "quality_lead",
            "--all-services",
            "--password",
            PASSWORD,
        ]
    )
    assert result.exit_code == 2 and "No such option '--password'" in result.output


@pytest.mark.parametrize(
    ("extra", "password", "message"),
    [
        (["--rights", "view,judge"], PASSWORD, "'judge' is for leadership roles only"),
        (["--rights", "view,delete"], PASSWORD, "unknown right 'delete'"),
        ([], "letmein", "must be at least 12"),
        ([], "qwerty123456", "most commonly used passwords"),
        ([], "", "must be at least 12"),
    ],
)
def test_refused_accounts_give_one_line_and_write_nothing(
    args: list[str], extra: list[str], password: str, message: str
) -> None:
    result = add(args, "Ann Lee", *extra, password=password)
    assert result.exit_code == 1
    assert (
        message in result.output and len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
    )
    assert users(args) == []


def test_an_unknown_service_is_refused_naming_the_known_ones(args: list[str]) -> None:
    result = invoke(
        [
            *args,
            "users",
            "add",
            "Ann Lee",
            "--staff-id",
            "X",
            "--role",
            "quality_lead",
            "--services",
            "Harbour Home Car",
        ],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 1
    assert (
        result.output.strip()
        == "Error: no service named 'Harbour Home Car' in this store (services: Harbour Home Care)"
    )
    missing = invoke(
        [*args, "users", "add", "Ann Lee", "--staff-id", "X", "--role", "quality_lead"], input=PASSWORD + "\n"
    )
    assert missing.exit_code == 1 and "--services" in missing.output and "--all-services" in missing.output
    assert users(args) == []


def test_disable_enable_and_reset(args: list[str]) -> None:
    assert add(args).exit_code == 0
    assert invoke([*args, "users", "disable", "Ann Lee"]).stdout == "disabled Ann Lee\n"
    assert users(args)[0]["status"] == "disabled"
    assert invoke([*args, "users", "enable", "Ann Lee"]).stdout == "enabled Ann Lee\n"
    result = invoke([*args, "users", "reset", "Ann Lee"], input="another long passphrase\n")
    assert result.exit_code == 0 and result.stdout == "Ann Lee: unlocked, new password set; every session ended\n"
    unknown = invoke([*args, "users", "reset", "Nobody"], input="another long passphrase\n")
    assert unknown.exit_code == 1 and unknown.output.strip() == "Error: no account named 'Nobody'"


def test_tokens_are_shown_once_listed_without_secrets_and_revoked(args: list[str]) -> None:
    assert add(args).exit_code == 0
    made = invoke([*args, "users", "token", "Ann Lee", "--token-name", "BI dashboard", "--expires-days", "30"])
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip()
    assert secret.startswith("il_") and len(secret) > 40
    listed = invoke([*args, "users", "tokens", "--json"])
    [token] = json.loads(listed.stdout)
    assert secret not in listed.stdout and token["prefix"] == secret[:10] and token["services"] == [SERVICE]
    beyond = invoke([*args, "users", "token", "Ann Lee", "--token-name", "x", "--rights", "admin"])
    assert beyond.exit_code == 1 and "cannot exceed its owner" in beyond.output
    assert invoke([*args, "users", "revoke-token", str(token["id"])]).stdout == f"revoked token {token['id']}\n"
    again = invoke([*args, "users", "revoke-token", str(token["id"])])
    assert again.exit_code == 1 and "already revoked" in again.output


def test_the_second_factor_setting(args: list[str]) -> None:
    assert invoke([*args, "users", "second-factor", "status"]).stdout.startswith("a second factor is not required")
    assert invoke([*args, "users", "second-factor", "on"]).stdout.startswith("a second factor is required")
    assert invoke([*args, "users", "second-factor", "status"]).stdout.startswith("a second factor is required")


def test_the_access_log_from_the_command_line_verifies_and_finds_tampering(
    args: list[str], stores: Any, tmp_path: Path
) -> None:
    assert add(args).exit_code == 0
    assert invoke([*args, "users", "disable", "Ann Lee"]).exit_code == 0
    checked = invoke([*args, "users", "access-log", "--verify"])
    assert checked.exit_code == 0 and "chain verified, 2 rows" in checked.output
    out = tmp_path / "log.jsonl"
    exported = invoke([*args, "users", "access-log", "-o", str(out)])
    assert exported.exit_code == 0
    assert [json.loads(line)["event"] for line in out.read_text().splitlines()] == ["user_added", "user_disabled"]
    head = checked.output.strip().rsplit(" ", 1)[-1]
    # Check an owner's edit past the guards is found.
    from insightlog.accounts.store import accounts_engine
    from insightlog.storage.settings import StoreSettings

    settings = (
        StoreSettings(database_url=args[1]) if args[0] == "--database-url" else StoreSettings(sqlite_path=args[1])
    )
    engine = accounts_engine(settings)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE web_access_log DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER web_access_log_refuse_update"))
        conn.execute(text("UPDATE web_access_log SET subject = 'Someone Else' WHERE seq = 2"))
    engine.dispose()
    broken = invoke([*args, "users", "access-log", "--verify", "--head", head])
    assert broken.exit_code == 1
    assert "access log: the hash chain is BROKEN: row 2: its contents do not match its hash" in broken.output


@pytest.mark.parametrize(
    "command",
    [
        "users",
        "users add",
        "users list",
        "users disable",
        "users enable",
        "users reset",
        "users token",
        "users tokens",
        "users revoke-token",
        "users second-factor",
        "users access-log",
        "serve",
    ],
)
def test_every_web_command_has_help_with_an_example(command: str) -> None:
    result = invoke([*command.split(), "--help"])
    assert result.exit_code == 0 and "Example:" in result.output
