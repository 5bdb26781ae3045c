"""As-of is as-of everywhere: for a sweep of moments across the worked examples, what the
services list, the governance view, the history (withdrawn entries marked, or hidden), the analysis
and the governance report show as of T on the whole store equals what they show on a store holding
only the events recorded by T, on the recorded basis, and on the ledger basis (append time) with a
store that received its history week by week."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from insightlog.analysis import LEDGER_BASIS, Basis
from insightlog.application.reports import gather_service
from insightlog.bootstrap import House, memory_config
from insightlog.interchange.timeutil import AsOf, parse_as_of, parse_strict_utc
from insightlog.report.model import Integrity

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = [ROOT / "examples" / "harbour_home_care.jsonl", ROOT / "examples" / "harbour_home_care_corrections.jsonl"]
START, END = date(2025, 12, 24), date(2026, 7, 31)
# Every ninth day, and the moments around the withdrawals of the corrections example (2-6 July:
# between a withdrawal and its replacement, and just before and after each).
SWEEP = [(START + timedelta(days=d)).isoformat() for d in range(0, (END - START).days + 1, 9)] + [
    "2026-07-02T09:09:59Z",
    "2026-07-02T09:12:00Z",
    "2026-07-02",
    "2026-07-03T09:59:59Z",
    "2026-07-05",
    "2026-07-06",
    "2026-07-31",
]
UTC = UTC
INTEGRITY = Integrity(checked_at="2026-12-01T12:00:00Z", ok=True)
MADE = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def house_of(batches: list[tuple[datetime, list[bytes]]]) -> House:
    """A store that received each batch of lines at its moment (the ledger's append time)."""
    clock = Clock(MADE)
    house = House(memory_config(clock=clock))
    for when, lines in batches:
        if lines:
            clock.now = when
            house.usecases.import_lines(lines, source_name="sweep.jsonl")
    return house


def recorded_at(line: bytes) -> str:
    return str(json.loads(line)["recorded_at"])


def weekly(lines: list[bytes]) -> list[tuple[datetime, list[bytes]]]:
    """The lines in batches by the week they were recorded, each appended on its Sunday evening."""
    batches: dict[datetime, list[bytes]] = {}
    for line in lines:
        day = parse_strict_utc(recorded_at(line)).date()
        sunday = day + timedelta(days=6 - day.weekday())
        batches.setdefault(datetime(sunday.year, sunday.month, sunday.day, 20, 0, tzinfo=UTC), []).append(line)
    return sorted(batches.items())


def read_lines(path: Path) -> list[bytes]:
    return [line for line in path.read_bytes().splitlines() if line.strip()]


def report_data(house: House, service: str, when: AsOf, basis: Basis | None = None) -> dict[str, Any]:
    """What the governance report shows as of ``when`` (its header counts of the whole store aside)."""
    report = gather_service(house.ledger, service, when, integrity=INTEGRITY, now=MADE, basis=basis)
    return {
        "document": report.document,
        "detail": report.detail,
        "governance": report.governance.rows,
        "overdue": report.governance.overdue_reviews,
        "history": report.history,
        "schedules": report.schedules,
        "basis": report.basis,
    }


def answers(full: House, cut: House, when: AsOf, basis: Basis | None = None) -> Iterator[tuple[str, Any, Any]]:
    """(what, the full store's answer as of ``when``, the cut store's answer as of ``when``)."""
    yield "services", full.usecases.services(when), cut.usecases.services()
    yield (
        "services --all",
        [s.as_dict() for s in full.usecases.service_listing(when)],
        [s.as_dict() for s in cut.usecases.service_listing()],
    )
    yield "view", full.usecases.view_from_events(when, basis=basis), cut.usecases.view_from_events(when, basis=basis)
    for service in cut.usecases.services():
        for hide in (False, True):
            yield (
                f"history {service} hide={hide}",
                full.usecases.history(service, as_of=when, basis=basis, hide_withdrawn=hide),
                cut.usecases.history(service, as_of=when, basis=basis, hide_withdrawn=hide),
            )
        yield (
            f"analyse {service}",
            full.usecases.analyse(service, when, basis=basis),
            cut.usecases.analyse(service, when, basis=basis),
        )
        yield f"report {service}", report_data(full, service, when, basis), report_data(cut, service, when, basis)


@pytest.fixture(scope="module", params=EXAMPLES, ids=lambda p: p.stem)
def example(request: pytest.FixtureRequest) -> tuple[list[bytes], House]:
    lines = read_lines(Path(request.param))
    return lines, house_of([(MADE, lines)])


@pytest.mark.parametrize("moment", SWEEP)
def test_every_as_of_answer_equals_the_answer_of_the_store_cut_at_that_moment(
    example: tuple[list[bytes], House], moment: str
) -> None:
    lines, full = example
    when = parse_as_of(moment)
    cut = house_of([(MADE, [line for line in lines if parse_strict_utc(recorded_at(line)) <= when.instant])])
    compared = 0
    for what, got, want in answers(full, cut, when):
        assert got == want, f"{what} as of {when.text}"
        compared += 1
    assert compared >= 3


@pytest.fixture(scope="module", params=EXAMPLES, ids=lambda p: p.stem)
def received_weekly(request: pytest.FixtureRequest) -> tuple[list[tuple[datetime, list[bytes]]], House]:
    batches = weekly(read_lines(Path(request.param)))
    return batches, house_of(batches)


@pytest.mark.parametrize("moment", SWEEP)
def test_on_the_ledger_basis_every_as_of_answer_equals_the_store_as_it_had_received_its_events_then(
    received_weekly: tuple[list[tuple[datetime, list[bytes]]], House], moment: str
) -> None:
    batches, full = received_weekly
    when = parse_as_of(moment)
    cut = house_of([(at, lines) for at, lines in batches if at <= when.instant])
    for what, got, want in answers(full, cut, when, LEDGER_BASIS):
        if what.startswith("services"):
            continue  # services has no basis: it lists by recorded_at
        assert got == want, f"{what} as of {when.text} on the ledger basis"


def test_the_weekly_store_differs_on_the_two_bases_so_the_ledger_sweep_tests_something(
    received_weekly: tuple[list[tuple[datetime, list[bytes]]], House],
) -> None:
    _, full = received_weekly
    service = full.usecases.services()[0]
    differ = 0
    for moment in SWEEP:
        when = parse_as_of(moment)
        recorded = full.usecases.history(service, as_of=when)
        ledger = full.usecases.history(service, as_of=when, basis=LEDGER_BASIS)
        assert len(ledger) <= len(recorded)
        assert all(r["basis"] == "ledger" for r in ledger)
        differ += len(ledger) < len(recorded)
    # Several moments fall inside a week whose events are recorded but not yet appended.
    assert differ >= 5


def test_before_anything_was_recorded_nothing_is_shown(example: tuple[list[bytes], House]) -> None:
    _, full = example
    when = parse_as_of("2025-12-31")
    assert full.usecases.services(when) == []
    assert full.usecases.view_from_events(when) == []
