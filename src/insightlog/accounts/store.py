"""Accounts in SQL: users, sessions, API tokens, provider settings and the access log.

``Accounts`` is the one object the web application (and ``insightlog users``) asks about accounts.
Every change is written in one transaction with its access-log row, so nothing happens that the
log does not show. The access log is append-only (database triggers refuse UPDATE, DELETE and
TRUNCATE, as ``insightlog.storage.guards`` does for the event tables) and hash-chained (``chain``), so an
edit that bypasses the triggers is found by ``verify_access_log``.

Secrets are never stored: a session cookie and an API token are kept as their SHA-256 (they are
256-bit random values, so a slow hash adds nothing), a password as its argon2id hash.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Any

import orjson

from insightlog.accounts import chain, tables, totp
from insightlog.accounts.errors import AccountError, UnknownUserError
from insightlog.accounts.passwords import Hasher, HashParameters, PasswordPolicy, check_password
from insightlog.accounts.rights import Right, check_rights_for_role, check_role, needs_second_factor, rights_text
from insightlog.accounts.throttle import ThrottlePolicy
from insightlog.interchange.timeutil import format_utc

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine, Row

    from insightlog.storage.settings import StoreSettings

FULL = "full"
SECOND_FACTOR = "second_factor"
REQUIRE_SECOND_FACTOR = "require_second_factor"
GUARD_MESSAGE = "insightlog: the access log is append-only"
PG_FUNCTION = "web_access_log_refuse"
PG_LOCK_KEY = 0x1A51_7714  # pg_advisory_xact_lock: one access-log writer at a time, and schema creation
PAGE = 1000
TOKEN_PREFIX = "il_"


def system_clock() -> datetime:
    return datetime.now(tz=UTC)


def _parse(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _instant(text: str) -> datetime:
    """A time from a column that is never null."""
    return datetime.fromisoformat(text)


def _inserted_id(key: Row[Any] | None) -> int:
    """The id an INSERT gave its row (SQLAlchemy types the key as optional: only an INSERT has one)."""
    if key is None:
        raise RuntimeError("the INSERT returned no primary key")
    return int(key[0])


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def clean_text(label: str, value: str, *, max_length: int = 200) -> str:
    """A name or id: trimmed, not empty, no control characters, at most ``max_length`` characters."""
    text = unicodedata.normalize("NFC", (value or "").strip())
    if not text:
        raise AccountError(f"{label} must not be empty")
    if len(text) > max_length:
        raise AccountError(f"{label} is longer than {max_length} characters")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in text):
        raise AccountError(f"{label} must not contain control characters")
    return text


@dataclass(frozen=True)
class User:
    """An account as the application sees it (never its password hash or second-factor secret)."""

    id: int
    name: str
    staff_id: str
    role: str
    rights: frozenset[Right]
    services: frozenset[str] | None  # None: every service
    totp_enrolled: bool
    failed_count: int
    last_failed_at: str | None
    locked_at: str | None
    disabled_at: str | None
    last_sign_in_at: str | None
    created_at: str

    @property
    def active(self) -> bool:
        return self.disabled_at is None and self.locked_at is None

    @property
    def status(self) -> str:
        return "disabled" if self.disabled_at else "locked" if self.locked_at else "active"

    def may_see(self, service: str) -> bool:
        return self.services is None or service in self.services

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "staff_id": self.staff_id,
            "role": self.role,
            "rights": rights_text(self.rights).split(",") if self.rights else [],
            "services": sorted(self.services) if self.services is not None else "all",
            "status": self.status,
            "second_factor": self.totp_enrolled,
            "failed_sign_ins": self.failed_count,
            "last_sign_in_at": self.last_sign_in_at,
            "created_at": self.created_at,
        }


@dataclass(frozen=True)
class Session:
    """A server-side session; its id is the cookie value's SHA-256."""

    id_hash: str
    user_id: int
    stage: str
    csrf: str
    pending_totp: str | None
    created_at: str
    last_seen_at: str
    expires_at: str


@dataclass(frozen=True)
class Token:
    """An API token (its secret is shown once, when made)."""

    id: int
    user_id: int
    name: str
    prefix: str
    rights: frozenset[Right]
    services: frozenset[str] | None
    created_at: str
    expires_at: str | None
    revoked_at: str | None
    last_used_at: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "prefix": self.prefix,
            "rights": rights_text(self.rights).split(",") if self.rights else [],
            "services": sorted(self.services) if self.services is not None else "all",
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "revoked_at": self.revoked_at,
            "last_used_at": self.last_used_at,
        }


class Outcome(str, Enum):
    """What a sign-in attempt came to (the log keeps it; the person sees one message for all refusals)."""

    SIGNED_IN = "signed_in"
    WRONG_PASSWORD = "wrong_password"
    UNKNOWN_NAME = "unknown_name"
    THROTTLED = "throttled"
    LOCKED = "locked"
    DISABLED = "disabled"


@dataclass(frozen=True)
class SignInResult:
    outcome: Outcome
    user: User | None = None
    retry_at: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.SIGNED_IN


@dataclass(frozen=True)
class By:
    """Who does something and through which door, for the access log."""

    via: str  # "web", "api" or "cli"
    client: str | None = None
    user: User | None = None
    operator: str | None = None  # the operating-system user, for the CLI

    def fields(self) -> dict[str, Any]:
        return {
            "user_id": self.user.id if self.user else None,
            "user_name": self.user.name if self.user else self.operator,
            "staff_id": self.user.staff_id if self.user else None,
            "via": self.via,
            "client": self.client,
        }


@dataclass(frozen=True)
class AccountsPolicy:
    """The rules a provider may tune; the defaults follow the NCSC's advice."""

    passwords: PasswordPolicy = field(default_factory=PasswordPolicy)
    hashing: HashParameters = field(default_factory=HashParameters)
    throttle: ThrottlePolicy = field(default_factory=ThrottlePolicy)
    idle_timeout: timedelta = timedelta(minutes=30)
    absolute_timeout: timedelta = timedelta(hours=12)
    touch_every: timedelta = timedelta(seconds=60)  # how often last_seen_at is written


class Accounts:
    """Users, sessions, tokens and the access log of one store."""

    def __init__(
        self,
        engine: Engine,
        *,
        policy: AccountsPolicy | None = None,
        clock: Callable[[], datetime] = system_clock,
    ) -> None:
        from insightlog.projections.database import writer

        self.engine = engine
        self.write_engine = writer(engine)
        self.policy = policy or AccountsPolicy()
        self.clock = clock
        self.hasher = Hasher(self.policy.hashing)
        self.is_postgres = engine.dialect.name == "postgresql"

    def close(self) -> None:
        self.engine.dispose()

    def healthy(self) -> bool:
        """Whether the accounts' database answers."""
        from sqlalchemy import select

        try:
            with self.engine.connect() as conn:
                conn.execute(select(tables.settings.c.key).limit(1))
        except Exception:  # noqa: BLE001 - any failure means unhealthy; the detail is not for the caller
            return False
        return True

    def now(self) -> datetime:
        return self.clock().astimezone(UTC).replace(microsecond=0)

    def _now_text(self) -> str:
        return format_utc(self.now())

    # -- schema ------------------------------------------------------------------------------

    def ensure(self) -> None:
        """Create the tables and the access log's guards if missing (idempotent, safe between processes)."""
        from sqlalchemy import text

        if self.is_postgres and self._postgres_ready():
            return  # nothing to create: roles that may not create objects (the writer) carry on
        with self.write_engine.begin() as conn:
            if self.is_postgres:
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_LOCK_KEY})
            tables.metadata.create_all(conn, checkfirst=True)
            if self.is_postgres:
                self._install_postgres_guards(conn)
            else:
                for op in ("UPDATE", "DELETE"):
                    conn.execute(
                        text(
                            f"CREATE TRIGGER IF NOT EXISTS web_access_log_refuse_{op.lower()} BEFORE {op} "
                            f"ON web_access_log BEGIN SELECT RAISE(ABORT, '{GUARD_MESSAGE}'); END"
                        )
                    )

    def _postgres_ready(self) -> bool:
        """Whether every accounts table and the access log's three guard triggers exist."""
        from sqlalchemy import text

        names = [t.name for t in tables.ALL_TABLES]
        with self.engine.connect() as conn:
            present = conn.execute(
                text(
                    "SELECT count(*) FROM unnest(CAST(:names AS text[])) AS n "
                    "WHERE to_regclass('public.' || n) IS NOT NULL"
                ),
                {"names": names},
            ).scalar()
            guards = conn.execute(
                text(
                    "SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                    "WHERE c.relname = 'web_access_log' AND NOT t.tgisinternal "
                    "AND t.tgname LIKE 'web_access_log_refuse_%'"
                )
            ).scalar()
        return present == len(names) and guards == 3

    def _install_postgres_guards(self, conn: Connection) -> None:
        from sqlalchemy import text

        present = {
            row[0]
            for row in conn.execute(
                text(
                    "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                    "WHERE c.relname = 'web_access_log' AND NOT t.tgisinternal"
                )
            )
        }
        conn.execute(
            text(
                f"CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN RAISE EXCEPTION '{GUARD_MESSAGE}' USING ERRCODE = 'insufficient_privilege'; END $$"
            )
        )
        for op in ("UPDATE", "DELETE", "TRUNCATE"):
            name = f"web_access_log_refuse_{op.lower()}"
            if name in present:
                continue
            level = "STATEMENT" if op == "TRUNCATE" else "ROW"
            conn.execute(
                text(
                    f"CREATE TRIGGER {name} BEFORE {op} ON web_access_log "
                    f"FOR EACH {level} EXECUTE FUNCTION {PG_FUNCTION}()"
                )
            )

    # -- the access log ----------------------------------------------------------------------

    def _append_log(
        self,
        conn: Connection,
        event: str,
        by: By,
        *,
        subject: str | None = None,
        detail: dict[str, Any] | None = None,
        user: User | None = None,
        user_name: str | None = None,
    ) -> int:
        """Append one row to the chain inside ``conn``'s (write) transaction; its sequence number."""
        from sqlalchemy import select

        if self.is_postgres:
            # One appender at a time: a row lock only roles that may write may take (a select-only
            # role could hold an advisory lock and stop every sign-in; storage/writelock.py).
            from insightlog.storage.writelock import WEB_ACCESS_LOG, transaction_lock

            transaction_lock(lambda sql, params: conn.exec_driver_sql(sql, params).first(), WEB_ACCESS_LOG, PG_LOCK_KEY)
        log = tables.access_log
        last = conn.execute(select(log.c.seq, log.c.hash).order_by(log.c.seq.desc()).limit(1)).first()
        seq = 1 if last is None else int(last[0]) + 1
        prev = chain.GENESIS if last is None else str(last[1])
        row: dict[str, Any] = {"seq": seq, "at": self._now_text(), "event": event, **by.fields()}
        if user is not None:  # the account concerned (sign-in events), when not the actor
            row.update(user_id=user.id, user_name=user.name, staff_id=user.staff_id)
        elif user_name is not None:
            row.update(user_name=user_name)
        row["subject"] = subject
        row["detail"] = orjson.dumps(detail or {}, option=orjson.OPT_SORT_KEYS).decode()
        row["prev_hash"] = prev
        row["hash"] = chain.row_hash(prev, row)
        conn.execute(log.insert().values(**row))
        return seq

    def log(self, event: str, by: By, *, subject: str | None = None, detail: dict[str, Any] | None = None) -> int:
        """Record something in the access log: a page viewed, a refusal, a download."""
        with self.write_engine.begin() as conn:
            return self._append_log(conn, event, by, subject=subject, detail=detail)

    def access_log(
        self, *, before: int | None = None, limit: int = 100, event: str | None = None, user_name: str | None = None
    ) -> list[dict[str, Any]]:
        """Rows newest first, ``limit`` at most, older than ``before`` (a seq), optionally filtered."""
        from sqlalchemy import select

        log = tables.access_log
        query = select(log).order_by(log.c.seq.desc()).limit(limit)
        if before is not None:
            query = query.where(log.c.seq < before)
        if event:
            query = query.where(log.c.event == event)
        if user_name:
            query = query.where(log.c.user_name == user_name)
        with self.engine.connect() as conn:
            return [_log_dict(r._mapping) for r in conn.execute(query)]

    def iter_access_log(self) -> Iterator[dict[str, Any]]:
        """Every row in order, page by page (for export and verification)."""
        from sqlalchemy import select

        log = tables.access_log
        after = 0
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(select(log).where(log.c.seq > after).order_by(log.c.seq).limit(PAGE))
                page = [{str(k): v for k, v in r._mapping.items()} for r in rows]  # names are str subclasses
            yield from page
            if len(page) < PAGE:
                return
            after = int(page[-1]["seq"])

    def log_events(self) -> list[str]:
        from sqlalchemy import select

        log = tables.access_log
        with self.engine.connect() as conn:
            return sorted(str(r[0]) for r in conn.execute(select(log.c.event).distinct()))

    def verify_access_log(self, expected_head: tuple[int, str] | None = None) -> chain.ChainReport:
        return chain.verify_chain(self.iter_access_log(), expected_head=expected_head)

    # -- users -------------------------------------------------------------------------------

    def _user_row(self, conn: Connection, *, name: str | None = None, user_id: int | None = None) -> Any:
        from sqlalchemy import select

        u = tables.users
        query = (
            select(u).where(u.c.name_key == name.casefold()) if name is not None else select(u).where(u.c.id == user_id)
        )
        return conn.execute(query).first()

    def get_user(self, name: str) -> User:
        with self.engine.connect() as conn:
            row = self._user_row(conn, name=name)
        if row is None:
            raise UnknownUserError(f"no account named {name!r}")
        return _user(row._mapping)

    def user_by_id(self, user_id: int) -> User | None:
        with self.engine.connect() as conn:
            row = self._user_row(conn, user_id=user_id)
        return _user(row._mapping) if row else None

    def list_users(self) -> list[User]:
        from sqlalchemy import select

        with self.engine.connect() as conn:
            return [_user(r._mapping) for r in conn.execute(select(tables.users).order_by(tables.users.c.name_key))]

    def add_user(
        self,
        name: str,
        staff_id: str,
        role: str,
        rights: Iterable[Right],
        services: Iterable[str] | None,
        password: str,
        *,
        by: By,
    ) -> User:
        """Add an account; the password must pass the policy. ``services`` None: every service."""
        from sqlalchemy import select

        name = clean_text("the name", name)
        staff_id = clean_text("the staff id", staff_id, max_length=100)
        check_role(role)
        held = frozenset(rights)
        check_rights_for_role(role, held)
        scope = _scope(services)
        value = check_password(password, policy=self.policy.passwords, personal=(name, staff_id))
        encoded = self.hasher.hash(value)
        now = self._now_text()
        u = tables.users
        with self.write_engine.begin() as conn:
            if conn.execute(select(u.c.id).where(u.c.name_key == name.casefold())).first():
                raise AccountError(f"an account named {name!r} already exists")
            if conn.execute(select(u.c.id).where(u.c.staff_id == staff_id)).first():
                raise AccountError(f"an account with staff id {staff_id!r} already exists")
            result = conn.execute(
                u.insert().values(
                    name=name,
                    name_key=name.casefold(),
                    staff_id=staff_id,
                    role=role,
                    rights=rights_text(held),
                    services=_scope_text(scope),
                    password_hash=encoded,
                    password_changed_at=now,
                    failed_count=0,
                    created_at=now,
                    updated_at=now,
                )
            )
            user_id = _inserted_id(result.inserted_primary_key)
            user = _user(self._user_row(conn, user_id=user_id)._mapping)
            self._append_log(conn, "user_added", by, subject=name, detail=_scope_detail(user))
        return user

    def set_disabled(self, name: str, disabled: bool, *, by: By) -> User:
        """Disable an account (its sessions end, its tokens stop working) or enable it again."""
        from sqlalchemy import update

        user = self.get_user(name)
        now = self._now_text()
        with self.write_engine.begin() as conn:
            conn.execute(
                update(tables.users)
                .where(tables.users.c.id == user.id)
                .values(disabled_at=now if disabled else None, updated_at=now)
            )
            ended = self._revoke_user_sessions(conn, user.id, "account disabled") if disabled else 0
            self._append_log(
                conn,
                "user_disabled" if disabled else "user_enabled",
                by,
                subject=user.name,
                detail={"sessions_ended": ended},
            )
            return _user(self._user_row(conn, user_id=user.id)._mapping)

    def reset(self, name: str, password: str | None, *, clear_second_factor: bool = False, by: By) -> User:
        """Unlock an account and clear its failures; set a new password and/or clear its second factor.

        Every session of the account ends."""
        from sqlalchemy import update

        user = self.get_user(name)
        now = self._now_text()
        values: dict[str, Any] = {"failed_count": 0, "last_failed_at": None, "locked_at": None, "updated_at": now}
        if password is not None:
            value = check_password(password, policy=self.policy.passwords, personal=(user.name, user.staff_id))
            values.update(password_hash=self.hasher.hash(value), password_changed_at=now)
        if clear_second_factor:
            values.update(totp_secret=None, totp_last_step=None)
        with self.write_engine.begin() as conn:
            conn.execute(update(tables.users).where(tables.users.c.id == user.id).values(**values))
            ended = self._revoke_user_sessions(conn, user.id, "account reset")
            detail = {
                "password_changed": password is not None,
                "second_factor_cleared": clear_second_factor,
                "unlocked": user.locked_at is not None,
                "sessions_ended": ended,
            }
            self._append_log(conn, "user_reset", by, subject=user.name, detail=detail)
            return _user(self._user_row(conn, user_id=user.id)._mapping)

    # -- signing in --------------------------------------------------------------------------

    def sign_in(self, name: str, password: str, *, client: str | None, via: str = "web") -> SignInResult:
        """Check a name and password, counting failures, throttling and locking; every attempt is logged."""
        from sqlalchemy import update

        by = By(via=via, client=client)
        with self.write_engine.begin() as conn:
            row = self._user_row(conn, name=name) if name else None
            user = _user(row._mapping) if row else None
            encoded = row._mapping["password_hash"] if row else None
            matches = self.hasher.verify(encoded, password)  # also for unknown names: the same time taken
            if user is None:
                self._append_log(
                    conn, "sign_in_failed", by, user_name=name[:200], detail={"reason": Outcome.UNKNOWN_NAME.value}
                )
                return SignInResult(Outcome.UNKNOWN_NAME)
            refusal = self._refusal(user)
            if refusal is not None:
                self._append_log(
                    conn,
                    "sign_in_refused",
                    by,
                    user=user,
                    detail={"reason": refusal.outcome.value, "retry_at": refusal.retry_at},
                )
                return replace(refusal, user=user)
            if not matches:
                return self._count_failure(conn, user, by, "sign_in_failed", Outcome.WRONG_PASSWORD)
            now = self._now_text()
            values: dict[str, Any] = {"failed_count": 0, "last_failed_at": None, "last_sign_in_at": now}
            if encoded and self.hasher.needs_rehash(encoded):
                values["password_hash"] = self.hasher.hash(password)
            conn.execute(update(tables.users).where(tables.users.c.id == user.id).values(**values))
            self._append_log(conn, "password_accepted", by, user=user)
            return SignInResult(Outcome.SIGNED_IN, _user(self._user_row(conn, user_id=user.id)._mapping))

    def _refusal(self, user: User) -> SignInResult | None:
        if user.disabled_at:
            return SignInResult(Outcome.DISABLED)
        if user.locked_at:
            return SignInResult(Outcome.LOCKED)
        retry = self.policy.throttle.retry_at(user.failed_count, _parse(user.last_failed_at))
        if retry is not None and retry > self.now():
            return SignInResult(Outcome.THROTTLED, retry_at=format_utc(retry))
        return None

    def _count_failure(self, conn: Connection, user: User, by: By, event: str, outcome: Outcome) -> SignInResult:
        from sqlalchemy import select, update

        u = tables.users
        now = self._now_text()
        conn.execute(update(u).where(u.c.id == user.id).values(failed_count=u.c.failed_count + 1, last_failed_at=now))
        failures = int(conn.execute(select(u.c.failed_count).where(u.c.id == user.id)).scalar_one())
        self._append_log(conn, event, by, user=user, detail={"reason": outcome.value, "failures": failures})
        if self.policy.throttle.locks(failures):
            conn.execute(update(u).where(u.c.id == user.id).values(locked_at=now))
            self._revoke_user_sessions(conn, user.id, "account locked")
            self._append_log(conn, "locked_out", by, user=user, detail={"failures": failures})
            return SignInResult(Outcome.LOCKED, user)
        return SignInResult(outcome, user)

    # -- the second factor -------------------------------------------------------------------

    def require_second_factor(self) -> bool:
        """Whether the provider requires a second factor of admin and leadership accounts."""
        return self.setting(REQUIRE_SECOND_FACTOR) == "on"

    def set_require_second_factor(self, on: bool, *, by: By) -> None:
        self.set_setting(REQUIRE_SECOND_FACTOR, "on" if on else "off", by=by)

    def second_factor_due(self, user: User) -> bool:
        """Whether signing in must pass a second factor: always once set up; when required, to set it up."""
        return user.totp_enrolled or (self.require_second_factor() and needs_second_factor(user.role, user.rights))

    def pending_secret(self, session_token: str) -> str:
        """The second-factor secret being set up in this session (made on first ask)."""
        from sqlalchemy import select, update

        s = tables.sessions
        with self.write_engine.begin() as conn:
            secret = conn.execute(select(s.c.pending_totp).where(s.c.id_hash == digest(session_token))).scalar()
            if secret:
                return str(secret)
            secret = totp.new_secret()
            conn.execute(update(s).where(s.c.id_hash == digest(session_token)).values(pending_totp=secret))
            return secret

    def check_second_factor(self, session_token: str, code: str, *, client: str | None) -> User | None:
        """Check a one-time code for the session's account (or the secret being set up); counts failures."""
        from sqlalchemy import select, update

        by = By(via="web", client=client)
        u, s = tables.users, tables.sessions
        with self.write_engine.begin() as conn:
            srow = conn.execute(select(s).where(s.c.id_hash == digest(session_token))).first()
            if srow is None:
                return None
            row = self._user_row(conn, user_id=int(srow._mapping["user_id"]))
            user = _user(row._mapping)
            refusal = self._refusal(user)
            if refusal is not None:
                self._append_log(conn, "second_factor_refused", by, user=user, detail={"reason": refusal.outcome.value})
                return None
            secret = row._mapping["totp_secret"] or srow._mapping["pending_totp"]
            enrolling = row._mapping["totp_secret"] is None
            step = totp.accepted_step(secret, code, self.now(), row._mapping["totp_last_step"]) if secret else None
            if step is None:
                self._count_failure(conn, user, by, "second_factor_failed", Outcome.WRONG_PASSWORD)
                return None
            conn.execute(
                update(u)
                .where(u.c.id == user.id)
                .values(totp_secret=secret, totp_last_step=step, failed_count=0, last_failed_at=None)
            )
            self._append_log(conn, "second_factor_set_up" if enrolling else "second_factor_accepted", by, user=user)
            return _user(self._user_row(conn, user_id=user.id)._mapping)

    # -- settings ----------------------------------------------------------------------------

    def setting(self, key: str) -> str | None:
        from sqlalchemy import select

        with self.engine.connect() as conn:
            value = conn.execute(select(tables.settings.c.value).where(tables.settings.c.key == key)).scalar()
        return str(value) if value is not None else None

    def set_setting(self, key: str, value: str, *, by: By) -> None:
        from sqlalchemy import delete

        st = tables.settings
        with self.write_engine.begin() as conn:
            conn.execute(delete(st).where(st.c.key == key))
            conn.execute(st.insert().values(key=key, value=value, updated_at=self._now_text()))
            self._append_log(conn, "setting_changed", by, subject=key, detail={"value": value})

    # -- sessions ----------------------------------------------------------------------------

    def new_session(self, user: User, stage: str, *, replacing: str | None = None, by: By) -> tuple[str, Session]:
        """A new session (a new id, never the old one: no fixation); ``replacing`` ends the session it follows."""
        if stage not in (FULL, SECOND_FACTOR):
            raise ValueError(stage)
        token = secrets.token_urlsafe(32)
        now = self.now()
        values: dict[str, Any] = {
            "id_hash": digest(token),
            "user_id": user.id,
            "stage": stage,
            "csrf": secrets.token_urlsafe(32),
            "pending_totp": None,
            "created_at": format_utc(now),
            "last_seen_at": format_utc(now),
            "expires_at": format_utc(now + self.policy.absolute_timeout),
        }
        with self.write_engine.begin() as conn:
            if replacing:
                self._revoke(conn, digest(replacing), "replaced at sign-in")
            conn.execute(tables.sessions.insert().values(**values))
            if stage == FULL:
                self._append_log(conn, "signed_in", by, user=user)
        return token, Session(**values)

    def session(self, token: str, *, client: str | None = None) -> tuple[Session, User] | None:
        """The live session of a cookie value and its account, or None (unknown, ended, timed out,
        account disabled or locked). A timeout ends the session and is logged."""
        from sqlalchemy import select, update

        if not token or len(token) > 200:
            return None
        s = tables.sessions
        key = digest(token)
        with self.engine.connect() as conn:
            row = conn.execute(select(s).where(s.c.id_hash == key)).first()
        if row is None or row._mapping["revoked_at"] is not None:
            return None
        m = row._mapping
        now = self.now()
        expired = None
        if now >= _instant(m["expires_at"]):
            expired = "absolute timeout"
        elif now - _instant(m["last_seen_at"]) >= self.policy.idle_timeout:
            expired = "idle timeout"
        user = self.user_by_id(int(m["user_id"]))
        if user is None:
            return None
        if expired:
            with self.write_engine.begin() as conn:
                if self._revoke(conn, key, expired):
                    self._append_log(
                        conn, "session_expired", By(via="web", client=client), user=user, detail={"reason": expired}
                    )
            return None
        if not user.active:
            return None
        if now - _instant(m["last_seen_at"]) >= self.policy.touch_every:
            with self.write_engine.begin() as conn:
                conn.execute(update(s).where(s.c.id_hash == key).values(last_seen_at=format_utc(now)))
        session = Session(
            **{
                k: m[k]
                for k in (
                    "id_hash",
                    "user_id",
                    "stage",
                    "csrf",
                    "pending_totp",
                    "created_at",
                    "last_seen_at",
                    "expires_at",
                )
            }
        )
        return session, user

    def end_session(self, token: str, *, by: By) -> bool:
        """Sign out: the session ends now and for good."""
        with self.write_engine.begin() as conn:
            ended = self._revoke(conn, digest(token), "signed out")
            if ended:
                self._append_log(conn, "signed_out", by)
            return ended

    def end_sessions(self, name: str, *, by: By) -> int:
        """End every session of an account (an administrator's action)."""
        user = self.get_user(name)
        with self.write_engine.begin() as conn:
            ended = self._revoke_user_sessions(conn, user.id, "ended by an administrator")
            self._append_log(conn, "sessions_ended", by, subject=user.name, detail={"sessions_ended": ended})
            return ended

    def live_sessions(self, user_id: int) -> int:
        from sqlalchemy import func, select

        s = tables.sessions
        now = self._now_text()
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count())
                    .select_from(s)
                    .where(s.c.user_id == user_id, s.c.revoked_at.is_(None), s.c.expires_at > now)
                ).scalar_one()
            )

    def _revoke(self, conn: Connection, key: str, reason: str) -> bool:
        from sqlalchemy import update

        s = tables.sessions
        result = conn.execute(
            update(s)
            .where(s.c.id_hash == key, s.c.revoked_at.is_(None))
            .values(revoked_at=self._now_text(), revoked_reason=reason)
        )
        return bool(result.rowcount)

    def _revoke_user_sessions(self, conn: Connection, user_id: int, reason: str) -> int:
        from sqlalchemy import update

        s = tables.sessions
        result = conn.execute(
            update(s)
            .where(s.c.user_id == user_id, s.c.revoked_at.is_(None))
            .values(revoked_at=self._now_text(), revoked_reason=reason)
        )
        return int(result.rowcount)

    # -- API tokens --------------------------------------------------------------------------

    def create_token(
        self,
        owner: str,
        name: str,
        rights: Iterable[Right],
        services: Iterable[str] | None,
        *,
        expires_in: timedelta | None = None,
        by: By,
    ) -> tuple[str, Token]:
        """A new API token of ``owner``, limited to ``rights`` and ``services`` (within the owner's own).

        Returns the token text, shown once, and its record."""
        user = self.get_user(owner)
        name = clean_text("the token name", name)
        held = frozenset(rights)
        if not held:
            raise AccountError("a token needs at least one right")
        beyond = held - user.rights
        if beyond:
            raise AccountError(
                f"{user.name} does not hold the right(s) {rights_text(beyond)}; a token cannot exceed its owner"
            )
        scope = _scope(services)
        if user.services is not None:
            if scope is None:
                scope = user.services
            elif scope - user.services:
                outside = ", ".join(sorted(scope - user.services))
                raise AccountError(f"{user.name} may not see {outside}; a token cannot exceed its owner")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = self.now()
        values = {
            "user_id": user.id,
            "name": name,
            "token_hash": digest(secret),
            "prefix": secret[:10],
            "rights": rights_text(held),
            "services": _scope_text(scope),
            "created_at": format_utc(now),
            "expires_at": format_utc(now + expires_in) if expires_in else None,
        }
        with self.write_engine.begin() as conn:
            token_id = _inserted_id(conn.execute(tables.tokens.insert().values(**values)).inserted_primary_key)
            detail = {
                "token": token_id,
                "rights": values["rights"],
                "services": sorted(scope) if scope is not None else "all",
            }
            self._append_log(conn, "token_created", by, subject=user.name, detail=detail)
        return secret, self._token(token_id)

    def _token(self, token_id: int) -> Token:
        from sqlalchemy import select

        with self.engine.connect() as conn:
            row = conn.execute(select(tables.tokens).where(tables.tokens.c.id == token_id)).first()
        if row is None:
            raise AccountError(f"no API token {token_id}")
        return _token(row._mapping)

    def list_tokens(self, owner: str | None = None) -> list[tuple[Token, str]]:
        """Tokens (with their owner's name), newest first."""
        from sqlalchemy import select

        t, u = tables.tokens, tables.users
        query = select(t, u.c.name.label("owner")).join(u, u.c.id == t.c.user_id).order_by(t.c.id.desc())
        if owner is not None:
            query = query.where(u.c.name_key == owner.casefold())
        with self.engine.connect() as conn:
            return [(_token(r._mapping), str(r._mapping["owner"])) for r in conn.execute(query)]

    def revoke_token(self, token_id: int, *, by: By) -> Token:
        from sqlalchemy import update

        token = self._token(token_id)
        if token.revoked_at is not None:
            raise AccountError(f"API token {token_id} was already revoked at {token.revoked_at}")
        owner = self.user_by_id(token.user_id)
        with self.write_engine.begin() as conn:
            conn.execute(
                update(tables.tokens).where(tables.tokens.c.id == token_id).values(revoked_at=self._now_text())
            )
            self._append_log(
                conn, "token_revoked", by, subject=owner.name if owner else None, detail={"token": token_id}
            )
        return self._token(token_id)

    def token_user(self, secret: str) -> tuple[Token, User] | None:
        """The live token of a bearer secret and its owner, or None (unknown, revoked, expired, owner inactive)."""
        from sqlalchemy import select, update

        if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
            return None
        t = tables.tokens
        with self.engine.connect() as conn:
            row = conn.execute(select(t).where(t.c.token_hash == digest(secret))).first()
        if row is None:
            return None
        token = _token(row._mapping)
        now = self.now()
        expires = _parse(token.expires_at)
        if token.revoked_at is not None or (expires is not None and now >= expires):
            return None
        user = self.user_by_id(token.user_id)
        if user is None or not user.active:
            return None
        last = _parse(token.last_used_at)
        if last is None or now - last >= self.policy.touch_every:
            with self.write_engine.begin() as conn:
                conn.execute(update(t).where(t.c.id == token.id).values(last_used_at=format_utc(now)))
        return token, user

    def token_refusal(self, secret: str) -> str:
        """Why a bearer secret is refused, for the access log (never shown to the caller)."""
        from sqlalchemy import select

        t = tables.tokens
        with self.engine.connect() as conn:
            row = conn.execute(select(t).where(t.c.token_hash == digest(secret))).first()
        if row is None:
            return "unknown token"
        token = _token(row._mapping)
        if token.revoked_at is not None:
            return f"token {token.id} revoked"
        if token.expires_at is not None:
            return f"token {token.id} expired"
        return f"token {token.id}: owner cannot sign in"


def _scope(services: Iterable[str] | None) -> frozenset[str] | None:
    if services is None:
        return None
    return frozenset(clean_text("a service name", s) for s in services)


def _scope_text(scope: frozenset[str] | None) -> str | None:
    return None if scope is None else orjson.dumps(sorted(scope)).decode()


def _scope_detail(user: User) -> dict[str, Any]:
    return {
        "staff_id": user.staff_id,
        "role": user.role,
        "rights": rights_text(user.rights),
        "services": sorted(user.services) if user.services is not None else "all",
    }


def _rights(text: str) -> frozenset[Right]:
    return frozenset(Right(v) for v in text.split(",") if v)


def _services(text: str | None) -> frozenset[str] | None:
    return None if text is None else frozenset(orjson.loads(text))


def _user(m: Any) -> User:
    return User(
        id=int(m["id"]),
        name=m["name"],
        staff_id=m["staff_id"],
        role=m["role"],
        rights=_rights(m["rights"]),
        services=_services(m["services"]),
        totp_enrolled=m["totp_secret"] is not None,
        failed_count=int(m["failed_count"]),
        last_failed_at=m["last_failed_at"],
        locked_at=m["locked_at"],
        disabled_at=m["disabled_at"],
        last_sign_in_at=m["last_sign_in_at"],
        created_at=m["created_at"],
    )


def _token(m: Any) -> Token:
    return Token(
        id=int(m["id"]),
        user_id=int(m["user_id"]),
        name=m["name"],
        prefix=m["prefix"],
        rights=_rights(m["rights"]),
        services=_services(m["services"]),
        created_at=m["created_at"],
        expires_at=m["expires_at"],
        revoked_at=m["revoked_at"],
        last_used_at=m["last_used_at"],
    )


def _log_dict(m: Any) -> dict[str, Any]:
    row = {str(k): v for k, v in m.items()}
    row["detail"] = orjson.loads(row["detail"])
    return row


def accounts_engine(settings: StoreSettings) -> Engine:
    """A SQLAlchemy engine on the store's database for the accounts tables.

    Unlike the read models' engine, commits wait for the disk (SQLite ``synchronous=FULL``): accounts
    and the access log are not derived data. The accounts tables are written even when the ledger is
    opened read-only (sessions and the access log must be kept).
    """
    from sqlalchemy import create_engine, event

    from insightlog.projections.database import LOCK_TIMEOUT_SECONDS, WRITE_OPTION, engine_url

    url = engine_url(replace(settings, read_only=False))
    if settings.database_url:
        return create_engine(
            url, connect_args={"options": f"-c lock_timeout={LOCK_TIMEOUT_SECONDS * 1000}"}, pool_size=4, max_overflow=4
        )
    engine = create_engine(url, connect_args={"timeout": LOCK_TIMEOUT_SECONDS, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:  # a DB-API connection: untyped
        dbapi_connection.isolation_level = None  # SQLAlchemy's pysqlite recipe: we say where BEGIN goes
        dbapi_connection.execute("PRAGMA synchronous = FULL")
        dbapi_connection.execute("PRAGMA foreign_keys = ON")

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE_OPTION) else "BEGIN")

    return engine


def open_accounts(
    settings: StoreSettings, *, policy: AccountsPolicy | None = None, clock: Callable[[], datetime] = system_clock
) -> Accounts:
    """The accounts of a store, with their tables created if missing."""
    accounts = Accounts(accounts_engine(settings), policy=policy, clock=clock)
    accounts.ensure()
    return accounts
