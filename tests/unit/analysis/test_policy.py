"""§15: policy parameters, overrides and policy files."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from insightlog.analysis import (
    DEFAULT_POLICY,
    Policy,
    PolicyError,
    load_policy,
    policy_from_document,
)

from .builders import History, drift_row


def small_history() -> History:
    h = History()
    h.theme("calls")
    h.judgement("calls", 3, "2026-01-02")
    h.evidence("calls", 3, "2026-01-10", team="north")
    h.evidence("calls", 2, "2026-01-11", team="north")
    h.evidence("calls", 3, "2026-01-12", team="north")
    return h


def test_default_policy_has_no_overrides_and_adds_no_policy_key() -> None:
    assert DEFAULT_POLICY.overrides() == {}
    assert "policy" not in small_history().analyse("2026-01-31")


def test_overriding_the_adverse_threshold_changes_the_outcome_and_names_the_policy() -> None:
    h = small_history()
    strict = DEFAULT_POLICY.with_overrides({"adverse_threshold": 3}, name="strict")
    default = h.analyse("2026-01-31")
    document = h.analyse("2026-01-31", strict)
    assert default["recognition"] == [] and default["isolated_themes"] == ["calls"]
    assert [r["theme"] for r in document["recognition"]] == ["calls"]
    assert list(document)[:3] == ["definitions_version", "policy", "service"]
    assert document["policy"] == {"name": "strict", "overrides": {"adverse_threshold": 3}}


def test_a_fractional_drift_threshold_is_exact_and_shown_as_a_fraction() -> None:
    h = small_history()
    policy = DEFAULT_POLICY.with_overrides({"drift_threshold": "1/3"}, name="tight")
    # Check: E = 8/3, D = 1/3 exactly: not more than 1/3, so still 0; default gives 0 too.
    assert drift_row(h.analyse("2026-01-31", policy), "calls", None, "2026-01")["sign"] == 0
    policy = DEFAULT_POLICY.with_overrides({"drift_threshold": 0.25}, name="tighter")
    assert drift_row(h.analyse("2026-01-31", policy), "calls", None, "2026-01")["sign"] == 1
    assert policy.drift_threshold == Fraction(1, 4)
    assert policy.overrides() == {"drift_threshold": "1/4"}


def test_leadership_roles_can_be_widened() -> None:
    h = small_history()
    h.judgement("calls", 1, "2026-01-20", role="team_leader")
    policy = DEFAULT_POLICY.with_overrides({"leadership_roles": ["team_leader", "registered_manager"]}, name="wide")
    assert drift_row(h.analyse("2026-01-31"), "calls", None, "2026-01")["J"] == 3
    assert drift_row(h.analyse("2026-01-31", policy), "calls", None, "2026-01")["J"] == 1
    assert policy.overrides() == {"leadership_roles": ["registered_manager", "team_leader"]}


def test_an_override_equal_to_the_default_is_not_an_override() -> None:
    policy = DEFAULT_POLICY.with_overrides(
        {
            "adverse_threshold": 2,
            "service_wide_share": "2/4",
            "leadership_roles": list(reversed(DEFAULT_POLICY.leadership_roles)),
        },
        name="same",
    )
    assert policy.overrides() == {}
    assert "policy" not in small_history().analyse("2026-01-31", policy)


def test_policy_files_load_from_json_and_toml(tmp_path: Path) -> None:
    as_json = tmp_path / "p.json"
    as_json.write_text('{"name": "board", "overrides": {"t1_grace_days": 7, "service_wide_share": "2/3"}}')
    as_toml = tmp_path / "p.toml"
    as_toml.write_text('name = "board"\n[overrides]\nt1_grace_days = 7\nservice_wide_share = "2/3"\n')
    for path in (as_json, as_toml):
        policy = load_policy(path)
        assert policy.name == "board"
        assert policy.overrides() == {"service_wide_share": "2/3", "t1_grace_days": 7}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"name": "x", "overrides": {"adverse_treshold": 3}}', "adverse_treshold"),
        ('{"name": "x", "overrides": {"t1_grace_days": "14"}}', "t1_grace_days"),
        ('{"name": "x", "overrides": {"t1_grace_days": true}}', "t1_grace_days"),
        ('{"name": "x", "overrides": {"repeated_distinct_dates": 0}}', "repeated_distinct_dates"),
        ('{"name": "x", "overrides": {"drift_threshold": "half"}}', "drift_threshold"),
        (
            '{"name": "x", "overrides": {"leadership_roles": "registered_manager"}}',
            "leadership_roles",
        ),
        ('{"name": "x", "overrides": {"name": "y"}}', "name"),
        ('{"overrides": {}}', "name"),
        ('{"name": "x", "extra": 1}', "extra"),
        ('{"name": "x", "overrides": [1]}', "overrides"),
        ("not json", "not valid"),
    ],
)
def test_a_bad_policy_file_is_a_policy_error_naming_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(PolicyError, match=message):
        load_policy(path)


def test_a_missing_policy_file_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "absent.toml")


def test_policy_errors_are_value_errors() -> None:
    with pytest.raises(ValueError):
        Policy(early_window_days=0)
    with pytest.raises(PolicyError, match="t7_confidence"):
        policy_from_document({"name": "x", "overrides": {"t7_confidence": ""}})
