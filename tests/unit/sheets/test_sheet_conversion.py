"""Converting rows into interchange events: each mapping feature, without a database."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from insightlog.interchange.validation import validate_object
from insightlog.sheets import ConversionResult, convert, load_mapping
from tests.unit.sheets.sheetfiles import SPOT_CHECK_MAPPING, SPOT_HEADER, csv_bytes, ods_bytes, spot_row, xlsx_bytes


def spot_csv(*rows: list[Any], **kw: Any) -> bytes:
    return csv_bytes([SPOT_HEADER, *rows], **kw)


def run(data: bytes, mapping: str = SPOT_CHECK_MAPPING, name: str = "checks.csv", **kw: Any) -> ConversionResult:
    return convert(data, load_mapping(mapping), file_name=name, **kw)


def only(result: ConversionResult) -> dict[str, Any]:
    assert result.ok, result.messages()
    assert len(result.events) == 1
    return result.events[0]


def test_a_row_becomes_one_valid_interchange_event_with_constants_columns_maps_and_computed_fields() -> None:
    event = only(run(spot_csv(spot_row("1"))))
    assert event == {
        "event_id": "SC-1",
        "service": "Harbour Home Care",
        "theme": "medicines.mar_charts",
        "location": None,
        "team": "north",
        "shift": None,
        "kind": "SpotCheckRecorded",
        "actor_role": "deputy_manager",
        "actor_id": "DM-1",
        "record": "spot_check_app",
        "observed_at": "2026-02-03T14:30:00Z",
        "recorded_at": "2026-02-03T16:00:00Z",
        "payload": {
            "items_checked": 10,
            "items_compliant": 7,
            "evidence_category": "processes",
            "source_type": "spot_check",
            "summary": "MAR charts (North): 7 of 10",
            "compliance_pct": 70.0,
            "evidence_score": 3,
        },
    }
    validate_object(event)


def test_uk_summer_times_are_converted_to_utc() -> None:
    event = only(run(spot_csv(spot_row("1", on="03/07/2026 14:30", entered="03/07/2026 16:00"))))
    assert event["observed_at"] == "2026-07-03T13:30:00Z"
    assert event["recorded_at"] == "2026-07-03T15:00:00Z"


def test_value_maps_ignore_case_and_extra_spaces_unless_told_not_to() -> None:
    assert only(run(spot_csv(spot_row("1", area="  mar   CHARTS ", rnd="north"))))["theme"] == "medicines.mar_charts"
    strict = SPOT_CHECK_MAPPING.replace(
        'South = "south", East = "east" }', 'South = "south", East = "east" }, ignore_case = false'
    )
    result = run(spot_csv(spot_row("1", rnd="north")), strict)
    assert [u.value for u in result.unmapped] == ["north"]


def test_the_band_is_computed_from_the_percentage_of_two_count_columns() -> None:
    bands = {}
    for ok in (3, 4, 7, 9):
        bands[ok] = only(run(spot_csv(spot_row("1", checked=10, ok=ok))))["payload"]["evidence_score"]
    assert bands == {3: 1, 4: 2, 7: 3, 9: 4}


def test_events_are_put_in_recorded_order_and_ties_keep_row_order() -> None:
    rows = [
        spot_row("late", entered="05/02/2026 09:00", on="04/02/2026 09:00"),
        spot_row("tie-a", entered="04/02/2026 09:00", on="03/02/2026 09:00"),
        spot_row("early", entered="01/02/2026 09:00", on="01/02/2026 08:00"),
        spot_row("tie-b", entered="04/02/2026 09:00", on="03/02/2026 10:00"),
    ]
    result = run(spot_csv(*rows))
    assert result.ok, result.messages()
    assert [e["event_id"] for e in result.events] == ["SC-early", "SC-tie-a", "SC-tie-b", "SC-late"]
    assert [o.row for o in result.origins] == [4, 3, 5, 2]


def test_blank_rows_are_skipped_and_counted_and_the_skip_rule_drops_rows_by_value() -> None:
    mapping = SPOT_CHECK_MAPPING.replace(
        'kind = "SpotCheckRecorded"', 'kind = "SpotCheckRecorded"\nskip = { column = "By", values = ["draft"] }'
    )
    result = run(spot_csv(spot_row("1"), [None] * 8, spot_row("2", by="DRAFT"), spot_row("3")), mapping)
    assert result.ok, result.messages()
    assert [e["event_id"] for e in result.events] == ["SC-1", "SC-3"]
    assert (result.rows, result.blank, result.skipped) == (3, 1, 1)


DISCRIMINATOR = """
mapping_version = 1
[[tables]]
kind = { column = "Type", map = { Incident = "IncidentRecorded", Complaint = "ComplaintReceived" } }
event_id = { template = "CS-{Id}" }
service = "Harbour Home Care"
theme = "call_punctuality"
team = { column = "Round" }
actor_role = "registered_manager"
actor_id = "RM-1"
observed_at = { column = "When" }
recorded_at = { same_as = "observed_at" }
[tables.payload]
summary = { column = "What" }
evidence_score = 2
source_type = { column = "Type", map = { Incident = "incident", Complaint = "complaint" } }
[tables.kinds.IncidentRecorded.payload]
evidence_category = "outcomes"
harm = { column = "Harm" }
[tables.kinds.ComplaintReceived]
record = "complaints_log"
[tables.kinds.ComplaintReceived.payload]
evidence_category = "people_experience"
"""


def test_a_discriminator_column_makes_several_kinds_from_one_sheet_with_fields_per_kind() -> None:
    rows = [
        ["Id", "Type", "Round", "When", "What", "Harm"],
        ["1", "Incident", "south", "10/02/2026 08:00", "late call", "no harm"],
        ["2", "complaint", "south", "11/02/2026 08:00", "late again", "ignored for complaints"],
    ]
    result = run(csv_bytes(rows), DISCRIMINATOR)
    assert result.ok, result.messages()
    incident, complaint = result.events
    assert incident["kind"] == "IncidentRecorded" and incident["record"] is None
    assert incident["payload"] == {
        "summary": "late call",
        "evidence_score": 2,
        "source_type": "incident",
        "evidence_category": "outcomes",
        "harm": "no harm",
    }
    assert complaint["kind"] == "ComplaintReceived" and complaint["record"] == "complaints_log"
    assert complaint["payload"]["evidence_category"] == "people_experience" and "harm" not in complaint["payload"]
    assert complaint["recorded_at"] == complaint["observed_at"] == "2026-02-11T08:00:00Z"


DIGEST = SPOT_CHECK_MAPPING.replace(
    'event_id = { template = "SC-{Ref}" }', 'event_id = { digest = true, prefix = "SC-" }'
)


def test_a_digest_event_id_survives_an_edited_score_but_differs_for_another_check() -> None:
    first = only(run(spot_csv(spot_row("1", ok=7)), DIGEST))
    edited = only(run(spot_csv(spot_row("1", ok=5)), DIGEST))
    other = only(run(spot_csv(spot_row("1", rnd="South")), DIGEST))
    assert first["event_id"].startswith("SC-") and len(first["event_id"]) == 27
    assert edited["event_id"] == first["event_id"]
    assert edited["payload"] != first["payload"]
    assert other["event_id"] != first["event_id"]


def test_an_event_id_template_turns_spaces_and_punctuation_into_dashes() -> None:
    mapping = SPOT_CHECK_MAPPING.replace('template = "SC-{Ref}"', 'template = "SC-{Area}-{Ref}"')
    assert only(run(spot_csv(spot_row("7 / b")), mapping))["event_id"] == "SC-MAR-charts-7-b"


def test_two_rows_making_one_event_id_are_one_event_if_identical_and_a_problem_if_not() -> None:
    result = run(spot_csv(spot_row("1"), spot_row("1")))
    assert result.ok and len(result.events) == 1 and result.repeated == 1
    result = run(spot_csv(spot_row("1"), spot_row("1", ok=2)))
    assert not result.ok
    (problem,) = result.problems
    assert (problem.row, problem.letter, problem.field) == (3, "A", "event_id")
    assert "also made by row 2 with different content" in problem.message


def test_a_date_column_and_a_time_column_combine_and_date_only_values_take_the_set_time() -> None:
    mapping = SPOT_CHECK_MAPPING.replace(
        'observed_at = { column = "Checked on" }', 'observed_at = { column = "Checked on", time_column = "At" }'
    ).replace('recorded_at = { column = "Entered" }', 'recorded_at = { column = "Entered", time_of_day = "17:45" }')
    header = [*SPOT_HEADER, "At"]
    result = run(csv_bytes([header, [*spot_row("1", on="03/07/2026", entered="03/07/2026"), "09:05"]]), mapping)
    event = only(result)
    assert (event["observed_at"], event["recorded_at"]) == ("2026-07-03T08:05:00Z", "2026-07-03T16:45:00Z")


def test_an_xlsx_with_a_title_above_the_header_and_real_date_cells_is_read_by_header_names() -> None:
    mapping = SPOT_CHECK_MAPPING.replace(
        'kind = "SpotCheckRecorded"', 'kind = "SpotCheckRecorded"\nsheet = "Checks"\nheader_row = 3'
    )
    rows = [
        ["Spot checks 2026"],
        [],
        SPOT_HEADER,
        ["1", "MAR charts", "North", "DM-1", datetime(2026, 2, 3, 14, 30), date(2026, 2, 4), 10.0, 9],
    ]
    data = xlsx_bytes({"Notes": [["ignored"]], "Checks": rows})
    event = only(run(data, mapping, name="checks.xlsx"))
    assert event["observed_at"] == "2026-02-03T14:30:00Z"
    assert event["recorded_at"] == "2026-02-04T12:00:00Z"  # a date cell: noon, the default time of day
    assert event["payload"]["items_checked"] == 10 and event["payload"]["compliance_pct"] == 90.0


def test_an_ods_spreadsheet_is_read_like_an_xlsx() -> None:
    mapping = SPOT_CHECK_MAPPING.replace('kind = "SpotCheckRecorded"', 'kind = "SpotCheckRecorded"\nsheet = "Checks"')
    rows = [SPOT_HEADER, ["12", "Referrals", "East", "DM-2", datetime(2026, 3, 4, 11, 0), "04/03/2026 13:00", 5, 2]]
    event = only(run(ods_bytes({"Checks": rows}), mapping, name="checks.ods"))
    assert (event["event_id"], event["theme"], event["team"]) == ("SC-12", "safeguarding.referrals", "east")
    assert (event["observed_at"], event["payload"]["evidence_score"]) == ("2026-03-04T11:00:00Z", 2)


def test_a_headerless_table_is_mapped_by_column_letters() -> None:
    mapping = """
mapping_version = 1
[[tables]]
header_row = 0
kind = "RotaMetricRecorded"
event_id = { template = "RM-{A}" }
service = "Harbour Home Care"
theme = "call_punctuality"
actor_role = "operations_manager"
actor_id = "OM-1"
observed_at = { letter = "B" }
recorded_at = { letter = "B" }
[tables.payload]
on_time_pct = { letter = "C", type = "number", multiply = 100, decimals = 1 }
evidence_score = { letter = "D" }
evidence_category = "processes"
source_type = "metric"
summary = { template = "Call monitoring {A}: {C}" }
"""
    event = only(run(csv_bytes([["2026-07", "31/07/2026 17:00", "0.8812", "4"]]), mapping))
    assert event["event_id"] == "RM-2026-07"
    assert event["payload"]["on_time_pct"] == 88.1 and event["payload"]["evidence_score"] == 4


def test_json_list_and_null_fields_for_structured_payloads() -> None:
    mapping = """
mapping_version = 1
[[tables]]
kind = "JudgementRecorded"
event_id = { column = "id" }
service = "Harbour Home Care"
theme = { column = "theme" }
actor_role = "registered_manager"
actor_id = "RM-1"
observed_at = { column = "at" }
recorded_at = { column = "at" }
[tables.payload]
score = { column = "score" }
confidence = { column = "confidence" }
exceptions = { column = "exceptions" }
supersedes = { column = "supersedes", empty = "null" }
narrative = { column = "narrative" }
tags = { column = "tags", type = "list", split = ";" }
"""
    rows = [
        ["id", "theme", "at", "score", "confidence", "exceptions", "supersedes", "narrative", "tags"],
        [
            "J-1",
            "medicines",
            "2026-01-09T10:00:00Z",
            "3",
            "qualified",
            '[{"theme": "medicines.mar_charts", "scope": null, "score": 2, "note": "weak"}]',
            "",
            "ok",
            "a; b;",
        ],
    ]
    event = only(run(csv_bytes(rows), mapping))
    assert event["payload"]["exceptions"] == [
        {"theme": "medicines.mar_charts", "scope": None, "score": 2, "note": "weak"}
    ]
    assert event["payload"]["supersedes"] is None and "supersedes" in event["payload"]
    assert event["payload"]["tags"] == ["a", "b"]
    assert event["observed_at"] == "2026-01-09T10:00:00Z"


def test_a_cp1252_csv_with_a_bom_and_semicolons_is_detected_and_read() -> None:
    rows = [SPOT_HEADER, spot_row("1", area="MAR charts", by="DM-1"), spot_row("2", by="DM-2")]
    mapping = SPOT_CHECK_MAPPING.replace(
        'summary = { template = "{Area} ({Round}): {OK} of {Checked}" }',
        'summary = { template = "{Area} – {By}: £0 spent, client’s view" }',
    )
    data = csv_bytes(rows, delimiter=";", encoding="cp1252", bom=True)
    data = data.replace(b"DM-2", "DM–2".encode("cp1252"))  # an en dash, byte 0x96 in cp1252
    result = run(data, mapping)
    assert result.ok, result.messages()
    assert [e["actor_id"] for e in result.events] == ["DM-1", "DM–2"]
    assert result.events[0]["payload"]["summary"] == "MAR charts – DM-1: £0 spent, client’s view"
    assert any("cp1252" in n for n in result.notes) and any("';'" in n for n in result.notes)


def test_a_utf8_csv_with_tabs_is_detected_too() -> None:
    data = csv_bytes([SPOT_HEADER, spot_row("1", by="Zoë")], delimiter="\t", bom=True)
    assert only(run(data))["actor_id"] == "Zoë"


def test_the_preview_shows_the_first_events_in_append_order_with_their_rows() -> None:
    result = run(spot_csv(spot_row("b", entered="04/02/2026 09:00"), spot_row("a", entered="03/02/2026 17:00")))
    preview = result.preview(1)
    assert preview == [
        {
            "sheet": None,
            "row": 3,
            "event_id": "SC-a",
            "kind": "SpotCheckRecorded",
            "theme": "medicines.mar_charts",
            "scope": "team:north",
            "observed_at": "2026-02-03T14:30:00Z",
            "recorded_at": "2026-02-03T17:00:00Z",
            "score": 3,
            "summary": "MAR charts (North): 7 of 10",
        }
    ]
    assert next(iter(result.jsonl())).startswith(b'{"event_id":"SC-a"')


def test_the_mapping_can_be_given_as_text_bytes_or_a_path(tmp_path: Any) -> None:
    path = tmp_path / "m.toml"
    path.write_text(SPOT_CHECK_MAPPING)
    for source in (SPOT_CHECK_MAPPING, SPOT_CHECK_MAPPING.encode(), path):
        assert load_mapping(source).tables[0].kinds == ("SpotCheckRecorded",)
    data_path = tmp_path / "checks.csv"
    data_path.write_bytes(spot_csv(spot_row("1")))
    assert convert(data_path, load_mapping(path)).events[0]["event_id"] == "SC-1"


@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_integral_numbers_from_workbooks_are_integers_in_the_payload(fmt: str) -> None:
    mapping = SPOT_CHECK_MAPPING.replace("summary = { template", 'extra = { column = "OK" }\nsummary = { template')
    rows = [SPOT_HEADER, spot_row("1", checked=10, ok=7)]
    data = xlsx_bytes({"Sheet": rows}) if fmt == "xlsx" else ods_bytes({"Sheet": rows})
    payload = only(run(data, mapping, name=f"f.{fmt}"))["payload"]
    assert payload["extra"] == 7 and type(payload["extra"]) is int and type(payload["items_checked"]) is int


def test_a_template_can_use_other_mapped_fields_and_rows_after_the_last_data_row_are_ignored() -> None:
    mapping = SPOT_CHECK_MAPPING.replace(
        'summary = { template = "{Area} ({Round}): {OK} of {Checked}" }',
        'summary = { template = "{=team} round, {=payload.compliance_pct}% ({{of {Checked}}})" }',
    ).replace('kind = "SpotCheckRecorded"', 'kind = "SpotCheckRecorded"\nlast_data_row = 2')
    result = run(spot_csv(spot_row("1"), ["totals", "", "", "", "", "", "10", "7"]), mapping)
    assert only(result)["payload"]["summary"] == "north round, 70% ({of 10})"


def test_a_header_typed_as_a_number_is_matched_as_written() -> None:
    mapping = SPOT_CHECK_MAPPING.replace('{ column = "Checked" }', '{ column = "2026" }')
    mapping = mapping.replace("{OK} of {Checked}", "{OK} of {2026}")
    rows = [[*SPOT_HEADER[:6], 2026, "OK"], spot_row("1")]
    assert only(run(xlsx_bytes({"S": rows}), mapping, name="a.xlsx"))["payload"]["items_checked"] == 10
