"""The accounts tables (SQLAlchemy Core), prefix ``web_``, in the same database as the ledger.

Text and Integer columns only, so one schema serves SQLite and PostgreSQL; instants are text
``YYYY-MM-DDTHH:MM:SSZ`` (text order is time order), lists JSON text. ``web_access_log`` is
append-only (triggers, see ``store``) and hash-chained (``chain``).
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, MetaData, Table, Text

SCHEMA_VERSION = 1

metadata = MetaData()

users = Table(
    "web_users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False),
    Column("name_key", Text, nullable=False, unique=True),  # the name case-folded: one account per name
    Column("staff_id", Text, nullable=False, unique=True),
    Column("role", Text, nullable=False),
    Column("rights", Text, nullable=False),  # "record,view"
    Column("services", Text),  # JSON list of names; NULL: every service
    Column("password_hash", Text, nullable=False),
    Column("password_changed_at", Text, nullable=False),
    Column("totp_secret", Text),
    Column("totp_last_step", Integer),
    Column("failed_count", Integer, nullable=False, server_default="0"),
    Column("last_failed_at", Text),
    Column("locked_at", Text),
    Column("disabled_at", Text),
    Column("last_sign_in_at", Text),
    Column("created_at", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
)

sessions = Table(
    "web_sessions",
    metadata,
    Column("id_hash", Text, primary_key=True),  # SHA-256 of the cookie value; the value is never stored
    Column("user_id", Integer, ForeignKey("web_users.id"), nullable=False),
    Column("stage", Text, nullable=False),  # "second_factor" (password passed) or "full"
    Column("csrf", Text, nullable=False),
    Column("pending_totp", Text),  # a second-factor secret being set up, until confirmed
    Column("created_at", Text, nullable=False),
    Column("last_seen_at", Text, nullable=False),
    Column("expires_at", Text, nullable=False),  # the absolute timeout
    Column("revoked_at", Text),
    Column("revoked_reason", Text),
    Index("web_sessions_user", "user_id"),
)

tokens = Table(
    "web_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("web_users.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("token_hash", Text, nullable=False, unique=True),  # SHA-256 of the token; shown once, never stored
    Column("prefix", Text, nullable=False),  # the first characters, to recognise a token in a list
    Column("rights", Text, nullable=False),
    Column("services", Text),  # JSON list; NULL: every service of the owner
    Column("created_at", Text, nullable=False),
    Column("expires_at", Text),
    Column("revoked_at", Text),
    Column("last_used_at", Text),
)

settings = Table(
    "web_settings",
    metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
)

access_log = Table(
    "web_access_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", Text, nullable=False),
    Column("event", Text, nullable=False),
    Column("user_id", Integer),
    Column("user_name", Text),
    Column("staff_id", Text),
    Column("via", Text, nullable=False),  # web, api or cli
    Column("client", Text),  # the client's address as the server saw it
    Column("subject", Text),  # what it was about: a service, an account, a token
    Column("detail", Text, nullable=False),  # JSON object text
    Column("prev_hash", Text, nullable=False),
    Column("hash", Text, nullable=False),
    Index("web_access_log_event", "event"),
)

ALL_TABLES = (users, sessions, tokens, settings, access_log)
APPEND_ONLY = (access_log,)
