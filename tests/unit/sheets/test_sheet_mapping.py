"""The mapping file is checked on its own: every mistake is one line naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from insightlog.sheets import MappingError, load_mapping
from tests.unit.sheets.sheetfiles import SPOT_CHECK_MAPPING

ROOT = Path(__file__).resolve().parents[3]


def error_of(text: str) -> str:
    with pytest.raises(MappingError) as info:
        load_mapping(text, name="map.toml")
    message = str(info.value)
    assert "\n" not in message
    return message


def test_the_example_mappings_are_valid() -> None:
    for name in ("audit_tracker.toml", "care_system_export.toml"):
        mapping = load_mapping(ROOT / "examples" / "sheets" / name)
        assert mapping.file.mapping_version == 1


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("mapping_version = 1", "mapping_version = 2"),
            "map.toml: mapping_version: 2 is not supported (this insightlog reads version 1)",
        ),
        (("mapping_version = 1", ""), "map.toml: mapping_version: is required"),
        (("[defaults]", "[defaults\n"), "map.toml: not valid TOML:"),
        (
            ('actor_id = { column = "By" }', 'actor_id = { colum = "By" }'),
            "map.toml: tables[0].actor_id.colum: is not a key of the mapping format",
        ),
        (('kind = "SpotCheckRecorded"', 'kind = "SpotCheck"'), "map.toml: tables[0].kind: unknown kind 'SpotCheck'"),
        (
            ('actor_role = "deputy_manager"', 'actor_role = "carer"'),
            "map.toml: defaults.actor_role: 'carer' is not one of quality_lead",
        ),
        (
            ('evidence_category = "processes"', 'evidence_category = "process"'),
            "map.toml: tables[0].payload.evidence_category: 'process' is not one of",
        ),
        (
            ('source_type = "spot_check"\n', ""),
            "map.toml: tables[0].payload.source_type: is required for SpotCheckRecorded",
        ),
        (('recorded_at = { column = "Entered" }\n', ""), "map.toml: tables[0].recorded_at: is required"),
        (
            ('"MAR charts" = "medicines.mar_charts"', '"MAR charts" = "medicines mar"'),
            "map.toml: tables[0].theme.map.MAR charts: 'medicines mar' is not a dotted theme name",
        ),
        (
            ('evidence_score = { band = "compliance_pct" }', 'evidence_score = { band = "compliance" }'),
            "map.toml: tables[0].payload.evidence_score: refers to payload.compliance, which this table does not map",
        ),
        (
            ('evidence_score = { band = "compliance_pct" }', "evidence_score = 5"),
            "map.toml: tables[0].payload.evidence_score: 5 is not a score from 1 to 4",
        ),
        (
            ('actor_id = { column = "By" }', 'actor_id = { column = "By", letter = "D" }'),
            "map.toml: tables[0].actor_id: give exactly one of column, letter",
        ),
        (
            ('actor_id = { column = "By" }', 'actor_id = { letter = "4" }'),
            "map.toml: tables[0].actor_id.letter: '4' is not a column letter",
        ),
        (
            ('template = "SC-{Ref}"', 'template = "SC {Ref}"'),
            "map.toml: tables[0].event_id.template: 'SC ' has characters an event_id cannot have",
        ),
        (
            ('template = "SC-{Ref}"', 'template = "SC-{Ref"'),
            "map.toml: tables[0].event_id.template: a '{' is not closed",
        ),
        (
            ("[defaults]", '[time]\nzone = "Europe/Londres"\n[defaults]'),
            "map.toml: time.zone: unknown time zone 'Europe/Londres'",
        ),
        (
            ("[defaults]", '[source]\nencoding = "klingon"\n[defaults]'),
            "map.toml: source.encoding: unknown encoding 'klingon'",
        ),
        (
            ("[defaults]", '[time]\nambiguous = "guess"\n[defaults]'),
            "map.toml: time.ambiguous: Input should be 'error', 'earlier' or 'later'",
        ),
        (
            ('kind = "SpotCheckRecorded"', 'kind = "SpotCheckRecorded"\nheader_row = 3\nfirst_data_row = 2'),
            "map.toml: tables[0].first_data_row: must come after header_row 3",
        ),
        (
            ("summary = { template", "team2 = { digest = true }\nsummary = { template"),
            "map.toml: tables[0].payload.team2: digest makes an event_id",
        ),
    ],
)
def test_a_mistake_in_a_mapping_is_one_line_naming_the_key(change: tuple[str, str], expected: str) -> None:
    old, new = change
    assert old in SPOT_CHECK_MAPPING
    assert error_of(SPOT_CHECK_MAPPING.replace(old, new, 1)).startswith(expected)


def test_computed_fields_that_refer_to_each_other_in_a_circle_are_refused() -> None:
    text = SPOT_CHECK_MAPPING.replace(
        'observed_at = { column = "Checked on" }', 'observed_at = { same_as = "recorded_at" }'
    )
    text = text.replace('recorded_at = { column = "Entered" }', 'recorded_at = { same_as = "observed_at" }')
    assert "computed fields refer to each other in a circle" in error_of(text)


def test_a_kind_map_is_checked_for_each_kind_it_can_make() -> None:
    text = SPOT_CHECK_MAPPING.replace(
        'kind = "SpotCheckRecorded"',
        'kind = { column = "Type", map = { A = "SpotCheckRecorded", B = "AuditSectionScored" } }',
    )
    assert error_of(text) == (
        "map.toml: tables[0].payload.audit_id: is required for AuditSectionScored (no column or constant feeds it)"
    )
    text = text.replace('B = "AuditSectionScored"', 'B = "Nonsense"')
    assert error_of(text) == "map.toml: tables[0].kind: unknown kind 'Nonsense'"


def test_a_missing_mapping_file_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match=r"^nope.toml: cannot be read"):
        load_mapping(tmp_path / "nope.toml")


def test_a_mapping_that_is_not_utf8_is_refused_with_the_byte() -> None:
    with pytest.raises(MappingError, match="a mapping file is UTF-8 text; byte 0 is not UTF-8"):
        load_mapping(b"\xff" + SPOT_CHECK_MAPPING.encode())


def test_an_empty_text_is_never_a_value_in_a_mapping() -> None:
    text = SPOT_CHECK_MAPPING.replace('source_type = "spot_check"', 'source_type = ""')
    assert error_of(text).startswith("map.toml: tables[0].payload.source_type: an empty text is not a value")
    text = SPOT_CHECK_MAPPING.replace('North = "north"', 'North = ""')
    assert error_of(text).startswith("map.toml: tables[0].team.map.North: an empty text is not a value")


def test_map_keys_that_differ_only_by_case_are_refused_unless_case_matters() -> None:
    text = SPOT_CHECK_MAPPING.replace('North = "north",', 'North = "north", NORTH = "south",')
    assert "'North' and 'NORTH' are the same value when case and spaces are ignored" in error_of(text)
