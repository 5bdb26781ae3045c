"""Fixtures for the scale tests: the CLI in a subprocess, PostgreSQL roles, store snapshots.

Roles are cluster-wide in PostgreSQL: each test makes uniquely named ones and drops them after
(revoking what they hold in the test database first).
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from insightlog.storage.settings import StoreSettings

PG_SERVER = os.environ.get("INSIGHTLOG_TEST_PG_URL", "postgresql://postgres@localhost:5432")  # as tests/conftest.py

SCALE = Path(__file__).resolve().parent
WORKER = SCALE / "scale_worker.py"


def cli_command() -> list[str]:
    """The installed console script, else the CLI through this interpreter."""
    script = shutil.which("insightlog", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-c", "from insightlog.cli.main import cli; cli()"]


def store_args(settings: StoreSettings) -> list[str]:
    if settings.database_url:
        return ["--database-url", settings.database_url]
    return ["--db", str(settings.sqlite_path)]


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for a CLI subprocess, without any INSIGHTLOG_* setting of ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INSIGHTLOG_")}
    env.update(extra)
    return env


def run_cli(
    args: list[str], *, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*cli_command(), *args], capture_output=True, text=True, env=env or clean_env(), timeout=timeout, check=False
    )


def export_bytes(ledger: Any, **kwargs: Any) -> bytes:
    from insightlog.application.ledger import write_export

    buf = io.BytesIO()
    write_export(ledger, buf, **kwargs)
    return buf.getvalue()


def pg_connect(url: str, **kwargs: Any):  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(url, autocommit=True, connect_timeout=5, **kwargs)


@dataclass
class Roles:
    """A writer, a projector and an auditor role made by ``insightlog db roles`` on one test database."""

    writer: str
    auditor: str
    owner_url: str
    projector: str = ""

    def url(self, role: str) -> str:
        from insightlog.storage.roles import role_url

        return role_url(self.owner_url, role)

    @property
    def writer_url(self) -> str:
        return self.url(self.writer)

    @property
    def auditor_url(self) -> str:
        return self.url(self.auditor)

    @property
    def projector_url(self) -> str:
        return self.url(self.projector)

    @property
    def names(self) -> list[str]:
        return ["--writer", self.writer, "--auditor", self.auditor, "--projector", self.projector]


@pytest.fixture
def pg_roles() -> Iterator[Any]:
    """``make(owner_url)`` sets up unique writer/projector/auditor roles on that database (again,
    for the same database: the same roles); dropped after."""
    made: dict[str, Roles] = {}

    def make(owner_url: str) -> Roles:
        roles = made.get(owner_url)
        if roles is None:
            tag = uuid.uuid4().hex[:10]
            roles = Roles(
                writer=f"il_test_writer_{tag}",
                auditor=f"il_test_auditor_{tag}",
                projector=f"il_test_projector_{tag}",
                owner_url=owner_url,
            )
            made[owner_url] = roles
        result = run_cli(["--database-url", owner_url, "db", "roles", *roles.names])
        assert result.returncode == 0, result.stderr
        return roles

    yield make
    for roles in made.values():
        names = [roles.writer, roles.auditor, roles.projector]
        with pg_connect(f"{PG_SERVER}/postgres") as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = ANY(%s)", (names,))
        with pg_connect(roles.owner_url) as conn:
            conn.execute("DROP OWNED BY " + ", ".join(f'"{name}"' for name in names))
        with pg_connect(f"{PG_SERVER}/postgres") as conn:
            for name in names:
                conn.execute(f'DROP ROLE IF EXISTS "{name}"')
