"""Round trip: the worked example written out as a spreadsheet-style CSV (UK local times, rows not
in recorded order) and imported with a mapping gives the same events and the same analysis as the
JSON Lines import."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from itertools import groupby
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from insightlog.analysis.engine import analyse
from insightlog.interchange.timeutil import parse_as_of
from tests.helpers import HARBOUR, harbour_lines

HERE = Path(__file__).resolve().parent
LONDON = ZoneInfo("Europe/London")
ENVELOPE = ["event_id", "service", "theme", "location", "team", "shift", "kind", "actor_role", "actor_id", "record"]


def uk_time(text: str) -> str:
    return datetime.fromisoformat(text).astimezone(LONDON).strftime("%d/%m/%Y %H:%M:%S")


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value)


def harbour_as_csv() -> bytes:
    """The worked example as one flat CSV, newest recorded first (ties keep their order)."""
    events = harbour_lines()
    keys = sorted({k for e in events for k in e["payload"]})
    header = [*ENVELOPE, "observed (UK time)", "recorded (UK time)", *(f"payload.{k}" for k in keys)]
    groups = [list(g) for _, g in groupby(events, key=lambda e: e["recorded_at"])]
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for group in reversed(groups):
        for e in group:
            writer.writerow(
                [
                    *(cell(e[k]) for k in ENVELOPE),
                    uk_time(e["observed_at"]),
                    uk_time(e["recorded_at"]),
                    *(cell(e["payload"].get(k)) for k in keys),
                ]
            )
    return out.getvalue().encode("utf-8")


def test_the_worked_example_as_a_csv_gives_the_same_events_and_analysis_as_its_jsonl(
    ledger_factory: Any, tmp_path: Path
) -> None:
    from insightlog.sheets import convert, load_mapping
    from insightlog.sheets.ledger import import_result

    data = harbour_as_csv()
    result = convert(data, load_mapping(HERE / "harbour_as_csv.toml"), file_name="harbour.csv")
    assert result.ok, result.messages()[:5]
    # Check the CSV rows were not in recorded order, and the import puts them in it
    assert result.origins[0].row == len(result.events) + 1
    by_id = {e["event_id"]: e for e in harbour_lines()}
    assert [e["event_id"] for e in result.events] == list(by_id)
    for event in result.events:
        assert event == by_id[event["event_id"]], event["event_id"]

    from_jsonl, from_csv = ledger_factory(), ledger_factory()
    from_jsonl.import_lines(HARBOUR.read_bytes().splitlines(), source_name=HARBOUR.name)
    import_result(from_csv, result, source_name="harbour.csv")
    service = "Harbour Home Care"
    for when in ("2026-03-31", "2026-06-30"):
        as_of = parse_as_of(when)
        assert analyse(from_csv.read_service(service), service, as_of) == analyse(
            from_jsonl.read_service(service), service, as_of
        )
    expected = json.loads((HARBOUR.parent / "harbour_home_care.expected.json").read_text())
    assert analyse(from_csv.read_service(service), service, parse_as_of(expected["as_of"])) == expected
