"""As-of is as-of everywhere: for a sweep of moments across the worked example, what the
services list, the governance view and the history show as of T on the whole store equals what
they show on a store holding only the events recorded by T."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from insightlog.bootstrap import House, memory_config
from insightlog.interchange.timeutil import parse_as_of

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = [ROOT / "examples" / "harbour_home_care.jsonl"]
START, END = date(2025, 12, 24), date(2026, 7, 31)
SWEEP = [START + timedelta(days=d) for d in range(0, (END - START).days + 1, 9)]


def appended_now() -> datetime:
    return datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def house_of(lines: list[bytes]) -> House:
    house = House(memory_config(clock=appended_now))
    if lines:
        house.usecases.import_lines(lines, source_name="sweep.jsonl")
    return house


@pytest.fixture(scope="module", params=EXAMPLES, ids=lambda p: p.stem)
def example(request: pytest.FixtureRequest) -> tuple[list[bytes], House]:
    lines = [line for line in Path(request.param).read_bytes().splitlines() if line.strip()]
    return lines, house_of(lines)


@pytest.mark.parametrize("day", SWEEP, ids=str)
def test_every_as_of_answer_equals_the_answer_of_the_store_cut_at_that_moment(example: tuple[list[bytes], House], day: date) -> None:
    lines, full = example
    when = parse_as_of(day.isoformat())
    cut_lines = [line for line in lines if json.loads(line)["recorded_at"] <= when.text]
    cut = house_of(cut_lines)
    assert full.usecases.services(when) == cut.usecases.services()
    for service in cut.usecases.services():
        assert full.usecases.history(service, as_of=when) == cut.usecases.history(service, as_of=when)
    assert full.usecases.view_from_events(when) == cut.usecases.view_from_events(when)


def test_before_anything_was_recorded_nothing_is_shown(example: tuple[list[bytes], House]) -> None:
    _, full = example
    when = parse_as_of("2025-12-31")
    assert full.usecases.services(when) == []
    assert full.usecases.view_from_events(when) == []
