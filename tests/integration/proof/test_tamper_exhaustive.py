"""Every column of every row type, tampered one change at a time, as the database owner could:
either nothing any command shows changes (history, analyse, export, services, prove, view,
taxonomy, and the state later writes start from), or ``verify --checkpoint FILE --trusted-key
KEY`` fails at the right place (the first affected position, or the checkpoint or taxonomy
version the row belongs to). ``verify`` never crashes. On SQLite and PostgreSQL.

The tried/held figures of each family are written to test-artifacts/tamper-exhaustive-<db>.json.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from insightlog.application.ledger import Ledger
from tests.helpers import ROOT
from tests.integration.proof.conftest import needs_openssl
from tests.integration.proof.tamperkit import (
    INTERVALS,
    Built,
    Raw,
    Tally,
    build_store,
    flip,
    member_spans,
    observe,
    run_verify,
    state_of,
)

ARTIFACTS = ROOT / "test-artifacts"

KINDS = {
    "ServiceLedger.Opened": "opened",
    "ServiceLedger.EntryAppended": "entry",
    "EventKey.Registered": "key",
    "LedgerHead.Started": "started",
    "LedgerHead.Advanced": "advanced",
    "CheckpointRecord.Taken": "taken",
    "CheckpointRecord.Cosigned": "cosigned",
    "CheckpointRecord.Timestamped": "timestamped",
    "Taxonomy.Added": "taxonomy",
    "LedgerHead.Snapshot": "head snapshot",
    "ServiceLedger.Snapshot": "service snapshot",
}


def kind_of(topic: str) -> str:
    return next(kind for suffix, kind in KINDS.items() if topic.endswith(":" + suffix))


@dataclass
class Place:
    """Where verify must name a change to a row: a position, or (position None) a checkpoint or
    taxonomy version whose name a finding must contain."""

    positions: frozenset[int] | None
    label: str | None = None


@dataclass
class Layout:
    """The untouched store, read independently of verify: each row's kind and place."""

    events: list[dict[str, Any]]
    snapshots: list[dict[str, Any]]
    places: dict[int, Place]  # notification id -> place
    service_positions: dict[str, dict[int, int]]  # service column id -> version -> position
    head_sizes: dict[int, int]  # head version -> size
    ids: dict[str, str]  # name -> column id (services, head)

    def snapshot_place(self, row: dict[str, Any], version: int | None = None) -> int | None:
        version = row["ver"] if version is None else version
        if kind_of(row["topic"]) == "head snapshot":
            size = self.head_sizes.get(version)
            return None if size is None else max(size, 1)
        positions = self.service_positions.get(row["oid"], {})
        earlier = [p for v, p in positions.items() if v <= version]
        return max(earlier) if earlier else (min(positions.values()) if positions else None)


def read_layout(raw: Raw) -> Layout:
    events = raw.event_rows()
    places: dict[int, Place] = {}
    count = 0
    batch_start = 1
    first: dict[str, int] = {}
    service_positions: dict[str, dict[int, int]] = {}
    head_sizes: dict[int, int] = {1: 0}
    sizes: dict[str, int] = {}
    ids: dict[str, str] = {}
    opened: list[tuple[int, str]] = []
    for row in events:
        kind = kind_of(row["topic"])
        state = state_of(row)
        if kind == "entry":
            count += 1
            places[row["nid"]] = Place(frozenset({count}))
            first.setdefault(row["oid"], count)
            service_positions.setdefault(row["oid"], {})[row["ver"]] = count
            ids[state["entry"]["service"]] = row["oid"]
        elif kind == "key":
            places[row["nid"]] = Place(frozenset({state["position"]}))
        elif kind == "started":
            places[row["nid"]] = Place(frozenset({1}))
            ids["head"] = row["oid"]
        elif kind == "advanced":
            batch_start = count + 1
            head_sizes[row["ver"]] = state["size"]
            places[row["nid"]] = Place(frozenset({batch_start}))
        elif kind == "opened":
            opened.append((row["nid"], row["oid"]))
        elif kind == "taken":
            sizes[row["oid"]] = state["size"]
            places[row["nid"]] = Place(None, f"checkpoint of size {state['size']}")
        elif kind in ("cosigned", "timestamped"):
            places[row["nid"]] = Place(None, f"checkpoint of size {sizes[row['oid']]}")
        else:
            places[row["nid"]] = Place(None, "taxonomy version")
    for nid, oid in opened:
        places[nid] = Place(frozenset({first[oid]}))
    return Layout(events, raw.snapshot_rows(), places, service_positions, head_sizes, ids)


# ----------------------------------------------------------------------------- the cases


@dataclass
class Case:
    family: str  # table / row type / column
    what: str
    apply: Callable[[Raw], Callable[[], None]]
    place: Place


def _hexdigit_flip(text: str, index: int) -> str:
    """Another hex digit at ``index`` (PostgreSQL's uuid column takes nothing else)."""
    c = text[index]
    return text[:index] + ("1" if c == "0" else "0") + text[index + 1 :]


def _column_flip(raw: Raw, oid: str) -> str:
    index = len(oid) // 2 if oid[len(oid) // 2] != "-" else len(oid) // 2 + 1
    if raw.pg:
        return _hexdigit_flip(oid, index)
    return oid[:index] + chr(ord(oid[index]) ^ 0x01) + oid[index + 1 :]


def _reencode(state: bytes, change: Callable[[dict[str, Any]], None]) -> bytes:
    data = orjson.loads(state)
    change(data)
    return orjson.dumps(data)


def event_cases(raw: Raw, layout: Layout, row: dict[str, Any], *, deep: bool) -> Iterator[Case]:
    kind = kind_of(row["topic"])
    place = layout.places[row["nid"]]
    table = "event table"

    def replace(**new: Any) -> Callable[[Raw], Callable[[], None]]:
        return lambda r: r.set_event(row, {**row, **new})

    state = row["state"]
    # Every member (nested ones too, for the rows sampled deep): one byte of its value flipped,
    # and the first letter of each top-level member's name.
    for path, key_start, start, end in member_spans(state, depth=3 if deep else 1):
        middle = start + (end - start) // 2
        yield Case(f"{table} / {kind} / state", f"flip a byte of {path}", replace(state=flip(state, middle)), place)
        if "." not in path:
            yield Case(
                f"{table} / {kind} / state", f"flip the name {path}", replace(state=flip(state, key_start + 1)), place
            )
    yield Case(f"{table} / {kind} / state", "flip the opening brace", replace(state=flip(state, 0)), place)
    for what, change in semantic_changes(kind, row, layout):
        yield Case(f"{table} / {kind} / state", what, replace(state=_reencode(state, change)), place)
    # Ids: one byte, another aggregate's id, and a move into another stream (state and column).
    yield Case(f"{table} / {kind} / originator_id", "flip a byte", replace(oid=_column_flip(raw, row["oid"])), place)
    others = [oid for name, oid in layout.ids.items() if oid != row["oid"]]
    yield Case(f"{table} / {kind} / originator_id", "another aggregate's id", replace(oid=others[0]), place)
    if kind == "entry":
        target = next(oid for name, oid in layout.ids.items() if name != "head" and oid != row["oid"])
        free = max(v for v in layout.service_positions[target]) + 1
        dashed = orjson.loads(next(e for e in layout.events if e["oid"] == target)["state"])["originator_id"]

        def move(data: dict[str, Any]) -> None:
            data["originator_id"] = dashed
            data["originator_version"] = free

        yield Case(f"{table} / {kind} / originator_id", "moved into the other service's stream (id, version, state)",
                   replace(oid=target, ver=free, state=_reencode(state, move)), place)  # fmt: skip
    for delta in (1, -1, 1000):
        yield Case(
            f"{table} / {kind} / originator_version", f"version {delta:+d}", replace(ver=row["ver"] + delta), place
        )
    topic = row["topic"]
    middle = len(topic) // 2
    yield Case(
        f"{table} / {kind} / topic",
        "flip a byte",
        replace(topic=topic[:middle] + chr(ord(topic[middle]) ^ 0x01) + topic[middle + 1 :]),
        place,
    )
    other_topic = next(r["topic"] for r in layout.events if kind_of(r["topic"]) != kind)
    yield Case(f"{table} / {kind} / topic", "another row type's topic", replace(topic=other_topic), place)
    last = max(r["nid"] for r in layout.events)
    nid_column = "notification_id" if raw.pg else "rowid"
    yield Case(f"{table} / {kind} / {nid_column}", "moved to the end of the log", replace(nid=last + 1), place)
    yield Case(f"{table} / {kind} / {nid_column}", "moved below the log's first id", replace(nid=0), place)


def semantic_changes(
    kind: str, row: dict[str, Any], layout: Layout
) -> Iterator[tuple[str, Callable[[dict[str, Any]], None]]]:
    """Plausible other values, written as the ledger would write them (canonical JSON)."""

    def setter(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
        def change(data: dict[str, Any]) -> None:
            node = data
            *parents, leaf = path.split(".")
            for name in parents:
                node = node[name]
            node[leaf] = value(node[leaf]) if callable(value) else value

        return change

    heads = [state_of(r) for r in layout.events if kind_of(r["topic"]) == "advanced"]
    other = {"Harbour Home Care": "Lantern Care", "Lantern Care": "Harbour Home Care"}
    if kind == "entry":
        yield "position + 1", setter("position", lambda p: p + 1)
        yield "another service named in the entry", setter("entry.service", other[state_of(row)["entry"]["service"]])
        yield "version + 1 in the state only", setter("originator_version", lambda v: v + 1)
    elif kind == "key":
        yield "another event's digest", setter("digest", "0" * 64)
        yield "another service", setter("service", other[state_of(row)["service"]])
        yield "position + 1", setter("position", lambda p: p + 1)
    elif kind == "opened":
        yield (
            "another service's name",
            setter("name", "Harbour Home Care" if state_of(row)["name"] != "Harbour Home Care" else "Lantern Care"),
        )
        yield "a new name", setter("name", "Forged Care")
    elif kind == "advanced":
        yield "size + 1", setter("size", lambda s: s + 1)
        earlier = [h for h in heads if h["size"] < state_of(row)["size"]]
        if earlier:

            def roll_back(data: dict[str, Any]) -> None:
                data["size"], data["frontier"] = earlier[-1]["size"], earlier[-1]["frontier"]

            yield "the size and frontier of the head before it", roll_back
    elif kind == "started":
        yield "another origin", setter("origin", "insightlog/00000000-0000-4000-8000-000000000000")
    elif kind == "taken":
        yield "another root", setter("root_hash", "ab" * 32)
        yield "another size", setter("size", lambda s: s - 1)
    elif kind == "cosigned":
        yield "role provider", setter("role", "provider")
    elif kind == "timestamped":
        yield "another TSA", setter("tsa_url", "http://tsa.invalid/")
    elif kind == "taxonomy":
        yield (
            "a key question changed (digest left)",
            setter("statements", lambda s: [{**s[0], "key_question": "Forged"}, *s[1:]]),
        )


def snapshot_cases(raw: Raw, layout: Layout, row: dict[str, Any]) -> Iterator[Case]:
    kind = kind_of(row["topic"])
    family = f"snapshot table / {kind}"
    position = layout.snapshot_place(row)
    place = Place(frozenset({position}) if position is not None else None)

    def replace(**new: Any) -> Callable[[Raw], Callable[[], None]]:
        return lambda r: r.set_snapshot(row, {**row, **new})

    state = row["state"]
    for path, key_start, start, end in member_spans(state, depth=3):
        middle = start + (end - start) // 2
        yield Case(f"{family} / state", f"flip a byte of {path}", replace(state=flip(state, middle)), place)
        if path.count(".") <= 1:
            yield Case(f"{family} / state", f"flip the name {path}", replace(state=flip(state, key_start + 1)), place)
    same = [s for s in layout.snapshots if s["oid"] == row["oid"] and s["ver"] != row["ver"]]
    if same:
        other = state_of(same[0])["state"]
        yield Case(f"{family} / state", "the state of another of its snapshots",
                   replace(state=_reencode(state, lambda d: d.__setitem__("state", copy.deepcopy(other)))), place)  # fmt: skip
    counter = "size" if kind == "head snapshot" else "entry_count"
    yield Case(
        f"{family} / state",
        f"{counter} + 1",
        replace(state=_reencode(state, lambda d: d["state"].__setitem__(counter, d["state"][counter] + 1))),
        place,
    )
    if kind == "service snapshot":
        yield Case(f"{family} / state", "a theme's parent changed",
                   replace(state=_reencode(state, lambda d: d["state"]["themes"].__setitem__("medicines.mar_charts", "safeguarding"))), place)  # fmt: skip
        yield Case(f"{family} / state", "withdrawals and registrations left out (as before interchange 1.1)",
                   replace(state=_reencode(state, lambda d: [d["state"].pop("withdrawn"), d["state"].pop("registrations")] and None)), place)  # noqa: SIM223 # fmt: skip
        yield Case(f"{family} / state", "a method shadowed by a state member",
                   replace(state=_reencode(state, lambda d: d["state"].__setitem__("check_recorded_order", 1))), place)  # fmt: skip
    yield Case(f"{family} / originator_id", "flip a byte", replace(oid=_column_flip(raw, row["oid"])), place)
    other_id = next(oid for oid in layout.ids.values() if oid != row["oid"])
    yield Case(f"{family} / originator_id", "another aggregate's id", replace(oid=other_id), place)
    for delta in (1, -1, 1000):
        moved = layout.snapshot_place(row, row["ver"] + delta)
        positions = {p for p in (position, moved) if p is not None}
        yield Case(f"{family} / originator_version", f"version {delta:+d}", replace(ver=row["ver"] + delta),
                   Place(frozenset({min(positions)}) if positions else None))  # fmt: skip
    topic = row["topic"]
    middle = len(topic) // 2
    yield Case(
        f"{family} / topic",
        "flip a byte",
        replace(topic=topic[:middle] + chr(ord(topic[middle]) ^ 0x01) + topic[middle + 1 :]),
        place,
    )
    other_topic = next((s["topic"] for s in layout.snapshots if s["topic"] != topic), None)
    if other_topic:
        yield Case(f"{family} / topic", "the other snapshot type's topic", replace(topic=other_topic), place)


def sample_rows(layout: Layout) -> Iterator[tuple[dict[str, Any], bool]]:
    """A sample of every row type: (row, whether its nested members are flipped too)."""
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for row in layout.events:
        by_kind.setdefault(kind_of(row["topic"]), []).append(row)
    for kind, rows in by_kind.items():
        if kind == "entry":
            chosen = {0: False, 45: True, 65: False, 85: True, len(rows) - 1: False}
            for index, deep in chosen.items():
                yield rows[index], deep
        elif kind == "key":
            for index in (0, 45, len(rows) - 1):
                yield rows[index], False
        else:
            for row in rows:
                yield row, True


# ----------------------------------------------------------------------------- the test


def located(report: dict[str, Any], place: Place) -> bool:
    if place.positions is not None:
        return report["first_bad_position"] in place.positions
    return report["first_bad_position"] is None and any(place.label in f["message"] for f in report["findings"])  # type: ignore[operator]


def attempt(raw: Raw, case: Case) -> Callable[[], None] | None:
    try:
        return case.apply(raw)
    except Exception as exc:
        if type(exc).__name__ in (
            "IntegrityError",
            "UniqueViolation",
            "InvalidTextRepresentation",
            "NumericValueOutOfRange",
        ):
            return None
        raise


@needs_openssl
def test_every_column_of_every_row_type_tampered_either_changes_nothing_shown_or_fails_verify_at_its_place(
    stores: Any, tmp_path: Path, local_tsa: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Ledger, "snapshotting_intervals", INTERVALS)
    built: Built = build_store(stores, tmp_path, local_tsa.url, local_tsa.ca_pem)
    raw = Raw(built.settings)
    try:
        # Check: the store writes exactly these tables (besides read models and web accounts,
        # out of scope here), and the untouched store verifies.
        # insightlog_locks (PostgreSQL) is the writer lock's one row: no command shows or reads it.
        tables = {t for t in raw.tables() if not t.startswith(("rm_", "web_")) and t != "insightlog_locks"}
        assert tables == (
            {"insightlog_events", "insightlog_snapshots"} if raw.pg else {"stored_events", "stored_snapshots"}
        )
        clean = run_verify(built)
        assert clean["ok"], clean["findings"]
        assert (clean["events"], clean["anchored_size"], clean["events_not_yet_anchored"]) == (91, 90, 1)
        layout = read_layout(raw)
        kinds = {kind_of(r["topic"]) for r in layout.events} | {kind_of(r["topic"]) for r in layout.snapshots}
        assert kinds == set(KINDS.values())
        baseline = observe(built)
        cases = [c for row, deep in sample_rows(layout) for c in event_cases(raw, layout, row, deep=deep)]
        cases += [c for row in layout.snapshots for c in snapshot_cases(raw, layout, row)]
        tally = Tally()
        for case in cases:
            undo = attempt(raw, case)
            if undo is None:
                tally.add(case.family, "refused")
                continue
            try:
                report = run_verify(built)  # a traceback fails here
                if not report["ok"] and located(report, case.place):
                    outcome = "detected"
                elif not report["ok"]:
                    # Failing elsewhere is still right when the change shows nowhere (a stricter check).
                    outcome = "harmless" if observe(built) == baseline else "misplaced"
                    if outcome == "misplaced":
                        tally.failures.append(
                            f"{case.family}: {case.what}: verify named position {report['first_bad_position']}, "
                            f"expected {sorted(case.place.positions) if case.place.positions else case.place.label}: "
                            f"{report['findings'][0]['message']}"
                        )
                else:
                    changed = [name for name, value in observe(built).items() if value != baseline[name]]
                    outcome = "harmless" if not changed else "missed"
                    if changed:
                        tally.failures.append(
                            f"{case.family}: {case.what}: verify passed but {', '.join(changed)} changed"
                        )
            finally:
                undo()
            tally.add(case.family, outcome)
            if outcome == "harmless":
                tally.harmless.append(
                    f"{case.family}: {case.what} (verify {'failed' if not report['ok'] else 'passed'})"
                )
        assert run_verify(built)["ok"], "the store is not back as it was"
        backend = "postgres" if raw.pg else "sqlite"
        tally.write(ARTIFACTS / f"tamper-exhaustive-{backend}.json", {"backend": backend, "events": 91, "rows": len(layout.events),
                                                                      "snapshots": len(layout.snapshots), "cases": len(cases)})  # fmt: skip
        print(
            f"\ntamper {backend}: "
            + "; ".join(f"{family} {c['held']}/{c['tried']}" for family, c in sorted(tally.families.items()))
        )
        assert tally.failures == []
        assert all(c["tried"] > 0 for c in tally.families.values())
    finally:
        raw.close()
