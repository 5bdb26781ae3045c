"""What the tamper tests share: a store with every kind of row, direct access to its tables with
the guards bypassed (as the database owner has), and what every command shows of it."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from click.testing import CliRunner

from insightlog.aggregates.service import LedgerHead, ServiceLedger
from insightlog.cli.main import cli
from tests.helpers import HARBOUR, invoke

ROOT = Path(__file__).resolve().parents[3]
CORRECTIONS = ROOT / "examples" / "harbour_home_care_corrections.jsonl"
HARBOUR_NAME = "Harbour Home Care"
LANTERN_NAME = "Lantern Care"
TAXONOMY = "LANTERN-1"
AS_OF = "2026-07-01"
# Snapshots every 20 versions of a service and every 2 of the head, so a small store has both.
INTERVALS = {ServiceLedger: 20, LedgerHead: 2}
PROVE = ("HHC-001", "HHC-046", "HHC-070", "LC-005", "HHC-W02")


@dataclass
class Built:
    """A store with two services, five writes, checkpoints (one timestamped, one co-signed), a
    provider-added taxonomy, head and service snapshots, and one event not yet checkpointed."""

    settings: Any
    args: list[str]  # store arguments
    directory: Path
    outside: Path
    provider_pub: Path
    witness_pub: Path
    tsa_ca: Path

    @property
    def verify_args(self) -> list[str]:
        return [
            *self.args, "--read-only", "verify", "--checkpoint", str(self.outside), "--trusted-key", str(self.provider_pub),
            "--trusted-witness", str(self.witness_pub), "--tsa-ca", str(self.tsa_ca), "--json",
        ]  # fmt: skip


def _lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _lantern_lines() -> list[str]:
    out = []
    for line in _lines(HARBOUR)[:15]:
        text = line.replace("HHC-", "LC-").replace(HARBOUR_NAME, LANTERN_NAME)
        data = json.loads(text)
        if data["kind"] == "ServiceRegistered":
            data["payload"]["framework"]["taxonomy_version"] = f"{TAXONOMY} (test)"
        out.append(json.dumps(data))
    return out


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def build_store(stores: Any, directory: Path, tsa_url: str, tsa_ca: Path) -> Built:
    """Build the store through the CLI, as a provider would (intervals lowered by the caller)."""
    settings = stores.new()
    base = stores.cli_args(settings)
    outside = directory / "outside.jsonl"
    provider = [*base, "--key", str(directory / "provider.key"), "--checkpoint-file", str(outside)]
    unsigned = [*base, "--key", str(directory / "absent.key")]  # no key: no automatic checkpoint
    harbour = _lines(HARBOUR)
    extra = _lines(CORRECTIONS)[70:]  # withdrawals and a correction
    shipped = (ROOT / "src" / "insightlog" / "taxonomies" / "SAF-2024.csv").read_text(encoding="utf-8")
    taxonomy = directory / "lantern.csv"
    taxonomy.write_text(shipped.replace(",Safe,", ",Safe (Lantern),"), encoding="utf-8")
    steps = [
        [*provider, "keys", "init"],
        [*base, "--key", str(directory / "chair.key"), "keys", "init", "--role", "witness"],
        [*provider, "import", str(_write(directory / "a.jsonl", harbour[:30]))],
        [*provider, "import", str(_write(directory / "b.jsonl", harbour[30:50]))],
        [*provider, "import", str(_write(directory / "l.jsonl", _lantern_lines()))],
        [*provider, "taxonomy", "add", TAXONOMY, str(taxonomy)],
        [*provider, "import", str(_write(directory / "c.jsonl", harbour[50:]))],
        [*unsigned, "import", str(_write(directory / "w.jsonl", extra))],
        [*provider, "checkpoint", "--tsa", tsa_url],
        [*base, "--key", str(directory / "chair.key"), "checkpoint", "cosign"],
        [*unsigned, "record", "SpotCheckRecorded", "--service", LANTERN_NAME, "--theme", "medicines.mar_charts",
         "--actor-role", "deputy_manager", "--actor-id", "DM-1", "--event-id", "LC-LIVE-1", "--payload",
         '{"evidence_score": 3, "evidence_category": "observation", "source_type": "spot_check", "summary": "all signed"}'],
    ]  # fmt: skip
    for step in steps:
        result = invoke(step)
        assert result.exit_code == 0, (step, result.output)
    return Built(
        settings, base, directory, outside, directory / "provider.key.pub", directory / "chair.key.pub", tsa_ca
    )


# ----------------------------------------------------------------------------- raw access


class Raw:
    """The store's tables with the guards bypassed, as the database owner has them. Rows are
    dicts of their columns as stored (ids as text); every change returns its undo."""

    def __init__(self, settings: Any) -> None:
        self.pg = settings.is_postgres
        if self.pg:
            import psycopg

            self.conn: Any = psycopg.connect(settings.database_url, autocommit=True)
            self.conn.execute("SET session_replication_role = replica")  # triggers off, as an owner may
            self.events, self.snapshots, self.nid = "insightlog_events", "insightlog_snapshots", "notification_id"
        else:
            self.conn = sqlite3.connect(settings.sqlite_path, isolation_level=None)
            for op in ("update", "delete"):
                self.conn.execute(f"DROP TRIGGER IF EXISTS insightlog_refuse_{op}_stored_events")
            self.events, self.snapshots, self.nid = "stored_events", "stored_snapshots", "rowid"

    def close(self) -> None:
        self.conn.close()

    def _q(self, sql: str) -> str:
        return sql if self.pg else sql.replace("%s", "?").replace("::uuid", "")

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        return self.conn.execute(self._q(sql), params)

    def tables(self) -> set[str]:
        if self.pg:
            rows = self.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
        else:
            rows = self.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        return {r[0] for r in rows}

    def event_rows(self) -> list[dict[str, Any]]:
        oid = "originator_id::text" if self.pg else "originator_id"
        cur = self.execute(
            f"SELECT {self.nid}, {oid}, originator_version, topic, state FROM {self.events} ORDER BY {self.nid}"
        )
        return [dict(nid=r[0], oid=r[1], ver=r[2], topic=r[3], state=bytes(r[4])) for r in cur.fetchall()]

    def snapshot_rows(self) -> list[dict[str, Any]]:
        oid = "originator_id::text" if self.pg else "originator_id"
        cur = self.execute(
            f"SELECT {oid}, originator_version, topic, state FROM {self.snapshots} ORDER BY originator_id, originator_version"
        )
        return [dict(oid=r[0], ver=r[1], topic=r[2], state=bytes(r[3])) for r in cur.fetchall()]

    def set_event(self, row: dict[str, Any], new: dict[str, Any]) -> Callable[[], None]:
        """Replace the row (by its notification id) with ``new``; the undo puts it back."""
        sql = f"UPDATE {self.events} SET {self.nid} = %s, originator_id = %s::uuid, originator_version = %s, topic = %s, state = %s WHERE {self.nid} = %s"
        self.execute(sql, (new["nid"], new["oid"], new["ver"], new["topic"], new["state"], row["nid"]))
        return lambda: self.execute(sql, (row["nid"], row["oid"], row["ver"], row["topic"], row["state"], new["nid"]))

    def set_snapshot(self, row: dict[str, Any], new: dict[str, Any]) -> Callable[[], None]:
        sql = (f"UPDATE {self.snapshots} SET originator_id = %s::uuid, originator_version = %s, topic = %s, state = %s "
               "WHERE originator_id = %s::uuid AND originator_version = %s")  # fmt: skip
        self.execute(sql, (new["oid"], new["ver"], new["topic"], new["state"], row["oid"], row["ver"]))
        return lambda: self.execute(sql, (row["oid"], row["ver"], row["topic"], row["state"], new["oid"], new["ver"]))

    def delete_event(self, row: dict[str, Any]) -> Callable[[], None]:
        self.execute(f"DELETE FROM {self.events} WHERE {self.nid} = %s", (row["nid"],))
        return lambda: self.insert_event(row)

    def insert_event(self, row: dict[str, Any]) -> None:
        self.execute(
            f"INSERT INTO {self.events} ({self.nid}, originator_id, originator_version, topic, state) VALUES (%s, %s::uuid, %s, %s, %s)",
            (row["nid"], row["oid"], row["ver"], row["topic"], row["state"]),
        )

    def delete_snapshot(self, row: dict[str, Any]) -> Callable[[], None]:
        self.execute(
            f"DELETE FROM {self.snapshots} WHERE originator_id = %s::uuid AND originator_version = %s",
            (row["oid"], row["ver"]),
        )

        def undo() -> None:
            self.execute(f"INSERT INTO {self.snapshots} (originator_id, originator_version, topic, state) VALUES (%s::uuid, %s, %s, %s)",
                         (row["oid"], row["ver"], row["topic"], row["state"]))  # fmt: skip

        return undo


def state_of(row: dict[str, Any]) -> dict[str, Any]:
    data = orjson.loads(row["state"])
    assert isinstance(data, dict)
    return data


# ----------------------------------------------------------------------------- what commands show


def _run(args: list[str]) -> tuple[int, str, str | None]:
    result = CliRunner().invoke(cli, args, catch_exceptions=True)
    crash = (
        None
        if result.exception is None or isinstance(result.exception, SystemExit)
        else type(result.exception).__name__
    )
    return result.exit_code, result.stdout, crash


def observe(built: Built) -> dict[str, Any]:
    """Everything the commands show of the store (read-only), and the state later writes start
    from (the head, each service aggregate, each event key), for comparing before and after."""
    ro = [*built.args, "--read-only"]
    shown: dict[str, Any] = {"services": _run([*ro, "services", "--json"])}
    for service in (HARBOUR_NAME, LANTERN_NAME):
        shown[f"history {service}"] = _run([*ro, "history", "--service", service, "--json"])
        shown[f"analyse {service}"] = _run([*ro, "analyse", "--service", service, "--as-of", AS_OF, "--json"])
    shown["analyse proven"] = _run(
        [
            *ro,
            "analyse",
            "--service",
            HARBOUR_NAME,
            "--as-of",
            "2030-01-01",
            "--basis",
            "proven",
            "--tsa-ca",
            str(built.tsa_ca),
            "--json",
        ]
    )
    shown["export"] = _run([*ro, "export", "--with-provenance"])
    for event_id in PROVE:
        shown[f"prove {event_id}"] = _run([*ro, "prove", event_id, "--json"])
    shown["view"] = _run([*ro, "view", "--as-of", AS_OF, "--json"])
    shown["taxonomy"] = _run([*ro, "taxonomy", "show", TAXONOMY, "--json"])
    shown["write state"] = write_state(built.settings)
    return shown


def write_state(settings: Any) -> Any:
    """What the next write would start from: the head, each service as loaded (snapshot and
    events after it), and every event key."""
    from dataclasses import replace

    from insightlog.application.ledger import open_ledger

    try:
        ledger = open_ledger(replace(settings, read_only=True))
    except Exception as exc:  # noqa: BLE001
        return f"crash:{type(exc).__name__}"
    try:
        head = ledger.head()
        out: dict[str, Any] = {"head": None if head is None else (head.origin, head.size, list(head.frontier))}
        for service in (HARBOUR_NAME, LANTERN_NAME):
            aggregate = ledger._get_or_none(ServiceLedger.create_id(service))
            if aggregate is None:
                out[service] = None
                continue
            state = {k: v for k, v in vars(aggregate).items() if not k.startswith("_")}
            if state.get("registrations") is None:
                # Unknown (a snapshot from before interchange 1.1): the writer asks the event-id
                # index instead (application/references.py), which gives these ids.
                state["registrations"] = [
                    e.event_id for e in ledger.read_service(service) if e.kind == "ServiceRegistered"
                ]
            out[service] = (aggregate.id, aggregate.version, state)
        ids = [json.loads(line)["event_id"] for line in _lines(HARBOUR) + _lantern_lines() + _lines(CORRECTIONS)[70:]]
        out["keys"] = [ledger._find_key(event_id) for event_id in [*ids, "LC-LIVE-1"]]
        return repr(out)
    except Exception as exc:  # noqa: BLE001 - a crash is a change of what is shown
        return f"crash:{type(exc).__name__}"
    finally:
        ledger.close()


# ----------------------------------------------------------------------------- verify


def run_verify(
    built: Built, extra: list[str] | None = None, *, outside: bool = True, trusted: bool = True
) -> dict[str, Any]:
    """``verify --json`` in process; an exception (a traceback) fails the test."""
    args = [*built.args, "--read-only", "verify", "--json", "--tsa-ca", str(built.tsa_ca)]
    if outside:
        args += ["--checkpoint", str(built.outside)]
    if trusted:
        args += ["--trusted-key", str(built.provider_pub), "--trusted-witness", str(built.witness_pub)]
    result = invoke([*args, *(extra or [])])  # catch_exceptions=False: a traceback fails the test
    assert result.exit_code in (0, 1), result.output
    report = json.loads(result.stdout)
    assert (result.exit_code == 0) == report["ok"]
    return report


# ----------------------------------------------------------------------------- JSON members


def member_spans(data: bytes, depth: int = 3) -> Iterator[tuple[str, int, int, int]]:
    """(path, key start, value start, value end) of every member of the JSON object ``data`` up
    to ``depth`` levels of nesting (a list's first element counts as a level)."""
    yield from _object_spans(data, 0, "", depth)


def _skip_ws(data: bytes, i: int) -> int:
    while data[i] in b" \t\r\n":
        i += 1
    return i


def _string_end(data: bytes, i: int) -> int:
    i += 1
    while data[i] != 0x22:
        i += 2 if data[i] == 0x5C else 1
    return i + 1


def _value_end(data: bytes, i: int) -> int:
    c = data[i]
    if c == 0x22:
        return _string_end(data, i)
    if c in b"{[":
        depth = 0
        while True:
            c = data[i]
            if c == 0x22:
                i = _string_end(data, i)
                continue
            if c in b"{[":
                depth += 1
            elif c in b"}]":
                depth -= 1
                if depth == 0:
                    return i + 1
            i += 1
    while i < len(data) and data[i] not in b",}] \n":
        i += 1
    return i


def _object_spans(data: bytes, i: int, prefix: str, depth: int) -> Iterator[tuple[str, int, int, int]]:
    i = _skip_ws(data, i)
    assert data[i] == 0x7B
    i = _skip_ws(data, i + 1)
    while data[i] != 0x7D:
        key_start = i
        key_end = _string_end(data, i)
        name = data[key_start + 1 : key_end - 1].decode("utf-8")
        i = _skip_ws(data, _skip_ws(data, key_end) + 1)
        end = _value_end(data, i)
        path = f"{prefix}{name}"
        yield path, key_start, i, end
        if depth > 1 and data[i] == 0x7B:
            yield from _object_spans(data, i, path + ".", depth - 1)
        elif depth > 1 and data[i] == 0x5B and data[_skip_ws(data, i + 1)] in b"{":
            yield from _object_spans(data, _skip_ws(data, i + 1), path + "[0].", depth - 2)
        i = _skip_ws(data, end)
        if data[i] == 0x2C:
            i = _skip_ws(data, i + 1)


def flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


@dataclass
class Tally:
    """Tried and held, per family (table / row type / column)."""

    families: dict[str, dict[str, int]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    harmless: list[str] = field(default_factory=list)  # the changes no command shows, for the record

    def add(self, family: str, outcome: str) -> None:
        counts = self.families.setdefault(family, {"tried": 0, "held": 0, "detected": 0, "harmless": 0, "refused": 0})
        if outcome == "refused":
            counts["refused"] += 1
            return
        counts["tried"] += 1
        if outcome in ("detected", "harmless"):
            counts["held"] += 1
            counts[outcome] += 1

    def write(self, path: Path, extra: dict[str, Any]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        totals = {
            k: sum(c[k] for c in self.families.values()) for k in ("tried", "held", "detected", "harmless", "refused")
        }
        path.write_text(
            json.dumps(
                {
                    **extra,
                    "totals": totals,
                    "families": self.families,
                    "failures": self.failures,
                    "harmless": self.harmless,
                },
                indent=2,
            )
            + "\n"
        )
