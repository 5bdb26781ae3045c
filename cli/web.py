"""Commands of the web application: accounts (``insightlog users ...``) and ``insightlog serve``.

Registered on the root group by ``register(cli)``; heavy modules are imported inside commands.
Passwords are read from standard input when it is not a terminal, prompted for otherwise, and
never taken as an argument (arguments show in the process list and the shell's history).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from insightlog.accounts.errors import AccountError
from insightlog.cli import output

if TYPE_CHECKING:
    from insightlog.accounts.store import Accounts, By
    from insightlog.cli.context import Context


def _accounts(obj: Context) -> Accounts:
    from insightlog.accounts.store import open_accounts
    from insightlog.errors import InsightlogError, one_line
    from insightlog.web.factory import accounts_policy

    try:
        return open_accounts(obj.settings, policy=accounts_policy(obj.config))
    except InsightlogError:
        raise
    except Exception as exc:  # noqa: BLE001 - infrastructure errors at the boundary
        raise AccountError(f"cannot open the accounts ({obj.settings.describe()}): {one_line(exc)}") from None


def _by() -> By:
    import getpass

    from insightlog.accounts.store import By

    try:
        operator = getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in this environment
        operator = "unknown"
    return By(via="cli", operator=f"cli:{operator}")


def read_password(prompt: str = "Password") -> str:
    """A password from the terminal (asked twice) or from the first line of standard input."""
    if sys.stdin.isatty():
        return str(click.prompt(prompt, hide_input=True, confirmation_prompt=True))
    line = sys.stdin.readline()
    if not line:
        raise click.ClickException("no password on standard input (give it on the first line)")
    return line.rstrip("\r\n")


def _services(obj: Context, services: str | None, all_services: bool, *, required: bool = True) -> list[str] | None:
    """The services option: a checked list of names the ledger knows, or None for every service."""
    if services is not None and all_services:
        raise click.ClickException("give either --services or --all-services, not both")
    if all_services:
        return None
    if services is None:
        if required:
            raise click.ClickException('say which services the account may see: --services "S1,S2" or --all-services')
        return None
    names = [s.strip() for s in services.split(",") if s.strip()]
    if not names:
        raise click.ClickException("--services names no service")

    known = set(obj.app.services())
    unknown = [n for n in names if n not in known]
    if unknown:
        listed = ", ".join(sorted(known)) or "none yet: import the history first"
        raise click.ClickException(
            f"no service named {', '.join(map(repr, unknown))} in this store (services: {listed})"
        )
    return names


@click.group()
def users() -> None:
    """Accounts of the web application: who may sign in, with which rights, for which services.

    Rights: record, judge (leadership roles only), view, audit, admin. Passwords are read from
    standard input when it is not a terminal, and asked for otherwise.

    Example:

        insightlog users add "Ann Lee" --staff-id QL-7 --role quality_lead --rights record,view
        --services "Harbour Home Care"

        insightlog users list
    """


@users.command("add")
@click.argument("name")
@click.option("--staff-id", required=True, metavar="ID", help="The staff id entries are recorded under (never a name).")
@click.option(
    "--role", required=True, metavar="ROLE", help="The interchange actor role, e.g. quality_lead, registered_manager."
)
@click.option(
    "--rights",
    default="view",
    show_default=True,
    metavar="LIST",
    help="Comma-separated: record,judge,view,audit,admin.",
)
@click.option("--services", metavar="LIST", help='The services the account may see: "S1,S2".')
@click.option("--all-services", is_flag=True, help="The account may see every service, now and later.")
@click.pass_obj
def users_add(
    obj: Context, name: str, staff_id: str, role: str, rights: str, services: str | None, all_services: bool
) -> None:
    """Add an account; its password comes from standard input (or a prompt).

    Example:

        printf '%s\\n' "$PASSWORD" | insightlog users add "Ann Lee" --staff-id QL-7 --role quality_lead
        --rights record,view --services "Harbour Home Care"
    """
    from insightlog.accounts.rights import check_rights_for_role, check_role, parse_rights

    held = parse_rights(rights)
    check_role(role)
    check_rights_for_role(role, held)
    scope = _services(obj, services, all_services)
    password = read_password()
    accounts = _accounts(obj)
    try:
        user = accounts.add_user(name, staff_id, role, held, scope, password, by=_by())
    finally:
        accounts.close()
    output.line(
        f"added {user.name} ({user.staff_id}, {user.role}): rights {','.join(user.as_dict()['rights'])}; "
        f"services {'all' if user.services is None else ', '.join(sorted(user.services))}"
    )


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the accounts as JSON.")
@click.pass_obj
def users_list(obj: Context, as_json: bool) -> None:
    """List the accounts: role, rights, services, status, second factor, last sign-in.

    Example:

        insightlog users list --json
    """
    accounts = _accounts(obj)
    try:
        rows = [u.as_dict() for u in accounts.list_users()]
    finally:
        accounts.close()
    if as_json:
        output.emit_json(rows)
        return
    output.table(
        ["name", "staff id", "role", "rights", "services", "status", "2-step", "last sign-in"],
        [
            [
                r["name"],
                r["staff_id"],
                r["role"],
                r["rights"],
                r["services"],
                r["status"],
                "on" if r["second_factor"] else "-",
                r["last_sign_in_at"],
            ]
            for r in rows
        ],
    )


@users.command("disable")
@click.argument("name")
@click.pass_obj
def users_disable(obj: Context, name: str) -> None:
    """Disable an account: it cannot sign in, its sessions end, its API tokens stop working.

    Example:

        insightlog users disable "Ann Lee"
    """
    accounts = _accounts(obj)
    try:
        user = accounts.set_disabled(name, True, by=_by())
    finally:
        accounts.close()
    output.line(f"disabled {user.name}")


@users.command("enable")
@click.argument("name")
@click.pass_obj
def users_enable(obj: Context, name: str) -> None:
    """Enable a disabled account again.

    Example:

        insightlog users enable "Ann Lee"
    """
    accounts = _accounts(obj)
    try:
        user = accounts.set_disabled(name, False, by=_by())
    finally:
        accounts.close()
    output.line(f"enabled {user.name}")


@users.command("reset")
@click.argument("name")
@click.option("--keep-password", is_flag=True, help="Only unlock the account; do not set a new password.")
@click.option("--clear-second-factor", is_flag=True, help="Remove the account's second factor (it sets one up again).")
@click.pass_obj
def users_reset(obj: Context, name: str, keep_password: bool, clear_second_factor: bool) -> None:
    """Unlock an account and set a new password (from standard input, or a prompt); its sessions end.

    Example:

        printf '%s\\n' "$NEW_PASSWORD" | insightlog users reset "Ann Lee"

        insightlog users reset "Ann Lee" --keep-password --clear-second-factor
    """
    accounts = _accounts(obj)
    try:
        accounts.get_user(name)
        password = None if keep_password else read_password("New password")
        user = accounts.reset(name, password, clear_second_factor=clear_second_factor, by=_by())
    finally:
        accounts.close()
    done = (
        ["unlocked"]
        + (["new password set"] if password is not None else [])
        + (["second factor cleared"] if clear_second_factor else [])
    )
    output.line(f"{user.name}: {', '.join(done)}; every session ended")


@users.command("token")
@click.argument("name")
@click.option("--token-name", required=True, metavar="TEXT", help="What the token is for, e.g. 'BI dashboard'.")
@click.option("--rights", default="view", show_default=True, metavar="LIST", help="Within the owner's rights.")
@click.option("--services", metavar="LIST", help="Within the owner's services; default: all of the owner's.")
@click.option(
    "--expires-days", type=click.IntRange(1, 3660), metavar="DAYS", help="Expire after DAYS (default: never)."
)
@click.pass_obj
def users_token(
    obj: Context, name: str, token_name: str, rights: str, services: str | None, expires_days: int | None
) -> None:
    """Make an API token for an account's integration; it is printed once and only its hash is kept.

    Example:

        insightlog users token "Ann Lee" --token-name "BI dashboard" --rights view --expires-days 90
    """
    from datetime import timedelta

    from insightlog.accounts.rights import parse_rights

    held = parse_rights(rights)
    scope = _services(obj, services, False, required=False)
    accounts = _accounts(obj)
    try:
        expires = timedelta(days=expires_days) if expires_days else None
        secret, token = accounts.create_token(name, token_name, held, scope, expires_in=expires, by=_by())
    finally:
        accounts.close()
    output.note(f"token {token.id} for {name}: keep it secret; it is not shown again")
    output.line(secret)


@users.command("tokens")
@click.option("--json", "as_json", is_flag=True, help="Print the tokens as JSON.")
@click.pass_obj
def users_tokens(obj: Context, as_json: bool) -> None:
    """List the API tokens (never their secrets).

    Example:

        insightlog users tokens
    """
    accounts = _accounts(obj)
    try:
        rows = [{**t.as_dict(), "owner": owner} for t, owner in accounts.list_tokens()]
    finally:
        accounts.close()
    if as_json:
        output.emit_json(rows)
        return
    output.table(
        ["id", "owner", "name", "rights", "services", "expires", "last used", "revoked"],
        [
            [
                r["id"],
                r["owner"],
                r["name"],
                r["rights"],
                r["services"],
                r["expires_at"],
                r["last_used_at"],
                r["revoked_at"],
            ]
            for r in rows
        ],
    )


@users.command("revoke-token")
@click.argument("token_id", type=int)
@click.pass_obj
def users_revoke_token(obj: Context, token_id: int) -> None:
    """Revoke an API token: it is refused from now on.

    Example:

        insightlog users revoke-token 3
    """
    accounts = _accounts(obj)
    try:
        accounts.revoke_token(token_id, by=_by())
    finally:
        accounts.close()
    output.line(f"revoked token {token_id}")


@users.command("second-factor")
@click.argument("setting", type=click.Choice(["on", "off", "status"]))
@click.pass_obj
def users_second_factor(obj: Context, setting: str) -> None:
    """Require a second factor (TOTP) of admin and leadership accounts, or stop requiring it.

    Example:

        insightlog users second-factor on
    """
    accounts = _accounts(obj)
    try:
        if setting != "status":
            accounts.set_require_second_factor(setting == "on", by=_by())
        on = accounts.require_second_factor()
    finally:
        accounts.close()
    output.line(f"a second factor is {'required' if on else 'not required'} of admin and leadership accounts")


@users.command("access-log")
@click.option("--verify", "verify_only", is_flag=True, help="Only check the hash chain (exit 1 if it is broken).")
@click.option(
    "-o",
    "--output",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write JSON Lines to FILE (default: stdout).",
)
@click.option("--head", metavar="SEQ:HASH", help="A head noted earlier (seq:hash); it must still be in the chain.")
@click.pass_obj
def users_access_log(obj: Context, verify_only: bool, out: Path | None, head: str | None) -> None:
    """Export the access log (sign-ins, refusals, views, downloads, account changes) or check its chain.

    Every export and check ends by naming the head (rows and latest hash): note it to detect later
    that rows were removed from the end.

    Example:

        insightlog users access-log --verify

        insightlog users access-log -o access.jsonl
    """
    import orjson

    expected = None
    if head is not None:
        seq, _, digest = head.partition(":")
        if not seq.isdigit() or len(digest) != 64:
            raise click.ClickException(f"--head {head!r} is not SEQ:HASH (a row number and 64 hex digits)")
        expected = (int(seq), digest.lower())
    accounts = _accounts(obj)
    try:
        report = accounts.verify_access_log(expected)
        if not verify_only:
            sink = out.open("wb") if out else sys.stdout.buffer
            try:
                for row in accounts.iter_access_log():
                    sink.write(orjson.dumps(row, option=orjson.OPT_SORT_KEYS) + b"\n")
            finally:
                if out:
                    sink.close()
                else:
                    sink.flush()
            accounts.log(
                "access_log_exported",
                _by(),
                detail={"rows": report.rows, "head": report.head_hash, "chain_ok": report.ok},
            )
    finally:
        accounts.close()
    if not report.ok:
        output.note(f"access log: the hash chain is BROKEN: {report.problem}")
        sys.exit(1)
    output.note(f"access log: chain verified, {report.rows} rows, head {report.head_seq}:{report.head_hash}")


@click.command()
@click.option(
    "--host",
    default=None,
    help="Address to listen on [env INSIGHTLOG_HOST].",
)
@click.option(
    "--port",
    default=None,
    type=click.IntRange(1, 65535),
    help="Port [env INSIGHTLOG_PORT].",
)
@click.option(
    "--workers",
    default=None,
    type=click.IntRange(1, 64),
    help="Worker processes (several for PostgreSQL) [env INSIGHTLOG_WEB_WORKERS].",
)
@click.option(
    "--forwarded-allow-ips",
    default=None,
    metavar="IPS",
    help="Reverse proxies trusted for X-Forwarded-For/-Proto [env INSIGHTLOG_FORWARDED_ALLOW_IPS].",
)
@click.pass_obj
def serve(
    obj: Context, host: str | None, port: int | None, workers: int | None, forwarded_allow_ips: str | None
) -> None:
    """Start the web application on the store (SQLite file or PostgreSQL).

    Behind a reverse proxy that terminates TLS, keep --host 127.0.0.1 and set INSIGHTLOG_WEB_HSTS=1.
    Cookies are Secure (browsers accept them on http://127.0.0.1 and http://localhost); for plain
    HTTP on another host, set INSIGHTLOG_WEB_SECURE_COOKIES=0 (development only).

    Example:

        insightlog --db provider.sqlite serve --port 8000

        insightlog --database-url postgresql://app@db/care serve --workers 4
    """
    import os

    import uvicorn

    from insightlog.bootstrap import store_environment
    from insightlog.errors import InsightlogError, one_line
    from insightlog.web.factory import build_app

    settings = obj.settings
    host = host or obj.config.web.host
    port = port or obj.config.web.port
    workers = workers or obj.config.web.workers
    forwarded_allow_ips = forwarded_allow_ips or obj.config.web.forwarded_allow_ips
    try:
        app = build_app(obj.config)  # opens both, creates the accounts tables: fails here, not in a worker
    except InsightlogError:
        raise
    except Exception as exc:  # noqa: BLE001 - infrastructure errors at the boundary
        raise AccountError(f"cannot start on {settings.describe()}: {one_line(exc)}") from None
    scheme = "https" if obj.config.web.hsts else "http"
    output.note(
        f"insightlog serving {settings.describe()} at {scheme}://{host}:{port}/ "
        f"({workers} worker{'s' if workers > 1 else ''}); Ctrl-C stops"
    )
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "proxy_headers": True,
        "forwarded_allow_ips": forwarded_allow_ips,
        "server_header": False,
        "access_log": False,
    }
    if workers == 1:
        uvicorn.run(app, **options)
        return
    # Each worker builds its own app from the same settings, passed through the environment.
    app.state.close()
    if not settings.database_url:
        output.note(
            "note: several workers on one SQLite file take turns to write; PostgreSQL suits several workers better"
        )
    os.environ.update(store_environment(obj.config))
    uvicorn.run("insightlog.web.factory:app_from_env", factory=True, workers=workers, **options)


def register(cli: click.Group) -> None:
    """Add the web application's commands to the root group."""
    cli.add_command(users)
    cli.add_command(serve)
