"""The worked examples (examples/harbour_home_care*.*) reproduced field for field."""

from __future__ import annotations

import gc
import json
from typing import Any

import orjson
import pytest

from insightlog.analysis import analyse, explain

from .builders import EXAMPLES, as_of, load_jsonl

SERVICE = "Harbour Home Care"


def assert_strictly_equal(actual: Any, expected: Any, path: str = "$") -> None:
    """Equal values with equal types (2 ≠ 2.0 ≠ "2", True ≠ 1) and equal key order."""
    assert type(actual) is type(expected), f"{path}: {type(actual).__name__} != {type(expected).__name__}"
    if isinstance(expected, dict):
        assert list(actual) == list(expected), f"{path}: keys {list(actual)} != {list(expected)}"
        for key in expected:
            assert_strictly_equal(actual[key], expected[key], f"{path}.{key}")
    elif isinstance(expected, list):
        assert len(actual) == len(expected), f"{path}: {len(actual)} items != {len(expected)}"
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_strictly_equal(a, e, f"{path}[{i}]")
    else:
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"


@pytest.fixture(scope="module")
def entries() -> list:
    return load_jsonl(EXAMPLES / "harbour_home_care.jsonl")


@pytest.mark.parametrize(
    ("when", "expected_file"),
    [
        ("2026-06-30T23:59:59Z", "harbour_home_care.expected.json"),
        ("2026-03-31T23:59:59Z", "harbour_home_care.asof-2026-03-31.expected.json"),
    ],
)
def test_worked_example_matches_expected_document(entries: list, when: str, expected_file: str) -> None:
    expected = json.loads((EXAMPLES / expected_file).read_text(encoding="utf-8"))
    document = analyse(entries, SERVICE, as_of(when))
    assert_strictly_equal(document, expected)
    # Check the serialised bytes too: same order, same types.
    assert orjson.dumps(document) == orjson.dumps(expected)


@pytest.fixture(scope="module")
def corrected() -> list:
    return load_jsonl(EXAMPLES / "harbour_home_care_corrections.jsonl")


@pytest.mark.parametrize(
    ("when", "expected_file"),
    [
        ("2026-07-31T23:59:59Z", "harbour_home_care_corrections.expected.json"),
        ("2026-07-02T23:59:59Z", "harbour_home_care_corrections.asof-2026-07-02.expected.json"),
        # A withdrawal never changes what was known before it was recorded.
        ("2026-06-30T23:59:59Z", "harbour_home_care.expected.json"),
        ("2026-03-31T23:59:59Z", "harbour_home_care.asof-2026-03-31.expected.json"),
    ],
)
def test_the_corrections_example_matches_its_expected_documents(corrected: list, when: str, expected_file: str) -> None:
    expected = json.loads((EXAMPLES / expected_file).read_text(encoding="utf-8"))
    document = analyse(corrected, SERVICE, as_of(when))
    assert_strictly_equal(document, expected)
    assert orjson.dumps(document) == orjson.dumps(expected)


def test_the_corrections_change_what_the_example_says_as_its_readme_explains(corrected: list) -> None:
    july = analyse(corrected, SERVICE, as_of("2026-07-31"))
    rows = {r["theme"]: r for r in july["recognition"]}
    # HHC-W01: the safeguarding revision HHC-046 no longer acknowledges the referrals episode.
    assert rows["safeguarding.referrals"]["acknowledgement"] != "HHC-046"
    # HHC-W02 + HHC-051R: the paper MAR check moved to the south round, recorded in July.
    assert rows["medicines.mar_charts"]["first_signal"] == "HHC-051R"
    # HHC-W04: without the May review, the June review came late.
    assert any(r["level"] == "rm_monthly" and r["held"] == "2026-06-18" for r in july["reviews"]["overdue"])
    explanation = explain(corrected, SERVICE, as_of("2026-07-31"))
    assert explanation["withdrawn"] == {
        "HHC-046": "HHC-W01",
        "HHC-051": "HHC-W02",
        "HHC-030": "HHC-W03",
        "HHC-063": "HHC-W04",
    }
    assert explain(corrected, SERVICE, as_of("2026-07-02"))["withdrawn"] == {"HHC-046": "HHC-W01", "HHC-051": "HHC-W02"}


def test_strict_comparison_tells_two_from_two_point_zero() -> None:
    with pytest.raises(AssertionError):
        assert_strictly_equal({"J": 2}, {"J": 2.0})
    with pytest.raises(AssertionError):
        assert_strictly_equal({"a": 1, "b": 2}, {"b": 2, "a": 1})


def test_input_order_does_not_matter_only_recorded_time_and_position(entries: list) -> None:
    expected = analyse(entries, SERVICE, as_of("2026-06-30"))
    assert analyse(list(reversed(entries)), SERVICE, as_of("2026-06-30")) == expected


def test_analysis_reads_only_the_named_service(entries: list) -> None:
    document = analyse(entries, "Another Service", as_of("2026-06-30"))
    assert document["drift"] == [] and document["triggers"] == [] and document["recognition"] == []


def test_explain_lists_the_evidence_behind_each_drift_row(entries: list) -> None:
    explanation = explain(entries, SERVICE, as_of("2026-06-30"))
    document = explanation["document"]
    assert len(explanation["drift"]) == len(document["drift"])
    rows = {(r["theme"], r["scope"], r["month"]): r for r in explanation["drift"]}
    mar_march = rows[("medicines.mar_charts", None, "2026-03")]
    # Check: scope-balanced E = (mean(3, 4) + 2 + 2) / 3 from exactly these items.
    assert mar_march["E"] == "2.50"
    assert mar_march["groups"] == {
        "team:east": ["HHC-042", "HHC-049"],
        "team:north": ["HHC-047"],
        "team:south": ["HHC-048"],
    }
    assert mar_march["evidence"] == ["HHC-042", "HHC-047", "HHC-048", "HHC-049"]
    assert rows[("medicines.time_critical", None, "2026-05")]["evidence"] == []
    referrals = [r for r in explanation["recognition"] if r["theme"] == "safeguarding.referrals"]
    assert referrals[0]["signals"] == ["HHC-017", "HHC-024", "HHC-033", "HHC-053", "HHC-064"]


@pytest.mark.parametrize("enabled", [True, False])
def test_analysis_leaves_the_garbage_collector_as_it_found_it(entries: list, enabled: bool) -> None:
    was = gc.isenabled()
    try:
        if enabled:
            gc.enable()
        else:
            gc.disable()
        analyse(entries, SERVICE, as_of("2026-06-30"))
        assert gc.isenabled() is enabled
    finally:
        if was:
            gc.enable()
        else:
            gc.disable()
