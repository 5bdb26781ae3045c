"""Errors a person can act on: each names the sheet, the row and column a spreadsheet program
shows, the header, the value and what was expected; all are collected and reported together."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from insightlog.sheets import ConversionResult, Problem, convert, load_mapping
from tests.unit.sheets.sheetfiles import SPOT_CHECK_MAPPING, SPOT_HEADER, csv_bytes, spot_row, xlsx_bytes


def run(data: bytes, mapping: str = SPOT_CHECK_MAPPING, name: str = "checks.csv", **kw: Any) -> ConversionResult:
    return convert(data, load_mapping(mapping), file_name=name, **kw)


def single(result: ConversionResult) -> Problem:
    assert not result.events or len(result.problems) == 1
    assert len(result.problems) == 1, result.messages()
    return result.problems[0]


def test_a_bad_encoding_names_the_row_and_column_of_the_first_bad_byte() -> None:
    rows = [SPOT_HEADER, spot_row("1"), spot_row("2", by="DM–2")]  # en dash
    data = csv_bytes(rows, encoding="cp1252")
    mapping = SPOT_CHECK_MAPPING.replace("[defaults]", '[source]\nencoding = "utf-8"\n[defaults]')
    result = run(data, mapping)
    problem = single(result)
    assert result.events == []
    assert (problem.row, problem.letter, problem.field) == (3, "D", "source.encoding")
    assert "byte(s) 96 are not valid utf-8" in str(problem) and 'source.encoding = "cp1252"' in str(problem)


def test_bytes_that_are_neither_utf8_nor_cp1252_are_a_problem_even_with_auto_detection() -> None:
    data = csv_bytes([SPOT_HEADER, spot_row("1")]) + b"x,\x81\x8d,y\r\n"
    problem = single(run(data))
    assert problem.row == 3 and problem.letter == "B"
    assert "not valid utf-8 or Windows cp1252" in problem.message


def test_a_missing_column_names_the_header_row_and_lists_the_columns_there() -> None:
    header = [h if h != "OK" else "Compliant" for h in SPOT_HEADER]
    problem = single(run(csv_bytes([header, spot_row("1")])))
    assert problem.row == 1
    assert "there is no column 'OK' in header row 1" in problem.message
    assert "H 'Compliant'" in problem.message and "tables[0].payload.items_compliant" in problem.message


def test_unmapped_values_are_listed_once_each_with_their_count_and_rows() -> None:
    rows = [
        SPOT_HEADER,
        spot_row("1", rnd="West"),
        spot_row("2", rnd="West"),
        spot_row("3", rnd="Central"),
        spot_row("4"),
        spot_row("5", rnd="west"),
    ]
    result = run(csv_bytes(rows))
    assert [e["event_id"] for e in result.events] == ["SC-4"]
    assert not result.ok and result.problems == []
    listed = {(u.value, u.count, tuple(u.rows)) for u in result.unmapped}
    assert listed == {("West", 2, (2, 3)), ("Central", 1, (4,)), ("west", 1, (6,))}
    text = str(next(u for u in result.unmapped if u.value == "West"))
    assert text.startswith("column C ('Round'): value 'West' is not in the value map of team (in 2 rows: 2, 3)")
    assert "'North', 'South', 'East'" in text


def test_a_bad_date_names_its_cell_and_the_formats_expected() -> None:
    problem = single(run(csv_bytes([SPOT_HEADER, spot_row("1", on="31/02/2026 10:00")])))
    assert (problem.row, problem.letter, problem.header, problem.value) == (2, "E", "Checked on", "31/02/2026 10:00")
    assert "is not a date and time in the formats %d/%m/%Y %H:%M:%S" in problem.message


def test_a_number_where_a_date_belongs_says_to_format_the_column() -> None:
    data = xlsx_bytes({"S": [SPOT_HEADER, spot_row("1", on=46000.5)]})
    problem = single(run(data, name="c.xlsx"))
    assert (problem.sheet, problem.row, problem.letter) == ("S", 2, "E")
    assert "is a number, not a date" in problem.message


def test_a_time_in_the_spring_gap_is_an_error_naming_the_row() -> None:
    problem = single(run(csv_bytes([SPOT_HEADER, spot_row("1", on="29/03/2026 01:30", entered="30/03/2026 09:00")])))
    assert (problem.row, problem.letter, problem.field) == (2, "E", "observed_at")
    assert "29/03/2026 01:30 does not exist in Europe/London (clocks go forward)" in problem.message
    assert 'time.nonexistent = "forward" or "backward"' in problem.message


def test_a_time_in_the_autumn_hour_is_an_error_naming_the_row() -> None:
    problem = single(run(csv_bytes([SPOT_HEADER, spot_row("1", on="25/10/2026 01:30", entered="26/10/2026 09:00")])))
    assert (problem.row, problem.letter) == (2, "E")
    assert "25/10/2026 01:30 happens twice in Europe/London (clocks go back)" in problem.message


@pytest.mark.parametrize(
    ("rule", "when", "expected"),
    [
        ('nonexistent = "forward"', "29/03/2026 01:30", "2026-03-29T01:30:00Z"),
        ('nonexistent = "backward"', "29/03/2026 01:30", "2026-03-29T00:30:00Z"),
        ('ambiguous = "earlier"', "25/10/2026 01:30", "2026-10-25T00:30:00Z"),
        ('ambiguous = "later"', "25/10/2026 01:30", "2026-10-25T01:30:00Z"),
    ],
)
def test_the_mapping_can_say_how_to_read_the_gap_and_the_repeated_hour(rule: str, when: str, expected: str) -> None:
    mapping = SPOT_CHECK_MAPPING.replace("[defaults]", f"[time]\n{rule}\n[defaults]")
    result = run(csv_bytes([SPOT_HEADER, spot_row("1", on=when, entered="30/10/2026 09:00")]), mapping)
    assert result.ok, result.messages()
    assert result.events[0]["observed_at"] == expected


def test_the_hours_around_the_changes_are_read_without_fuss() -> None:
    rows = [
        SPOT_HEADER,
        spot_row("a", on="29/03/2026 00:59", entered="29/03/2026 02:00"),
        spot_row("b", on="25/10/2026 00:59", entered="25/10/2026 02:00"),
    ]
    result = run(csv_bytes(rows))
    assert result.ok, result.messages()
    assert [(e["observed_at"], e["recorded_at"]) for e in result.events] == [
        ("2026-03-29T00:59:00Z", "2026-03-29T01:00:00Z"),
        ("2026-10-24T23:59:00Z", "2026-10-25T02:00:00Z"),
    ]


SCORED = SPOT_CHECK_MAPPING.replace(
    'evidence_score = { band = "compliance_pct" }',
    'evidence_score = { column = "Rating", map = { Good = 3, "Requires improvement" = 2 } }',
)


def test_a_score_that_disagrees_with_the_band_of_its_percentage_names_the_score_cell() -> None:
    rows = [
        [*SPOT_HEADER, "Rating"],
        [*spot_row("1", checked=10, ok=5), "Good"],
        [*spot_row("2", ok=5), "Requires improvement"],
    ]
    result = run(csv_bytes(rows), SCORED)
    problem = single(result)
    assert (problem.row, problem.letter, problem.header, problem.value) == (2, "I", "Rating", "Good")
    assert problem.field == "payload.evidence_score" and problem.event_id == "SC-1"
    assert "3 disagrees with the CQC band 2 of compliance_pct 50.0" in problem.message
    assert [e["event_id"] for e in result.events] == ["SC-2"]  # converted, but the result is not ok


def test_a_required_field_left_empty_names_its_cell() -> None:
    problem = single(run(csv_bytes([SPOT_HEADER, spot_row("1", by="")])))
    assert (problem.row, problem.letter, problem.header, problem.field) == (2, "D", "By", "actor_id")
    assert problem.message == "is empty; actor_id is required for SpotCheckRecorded"
    assert (
        str(problem)
        == "row 2, column D ('By') (event SC-1): actor_id: is empty; actor_id is required for SpotCheckRecorded"
    )


def test_an_empty_cell_in_an_event_id_template_is_a_problem_not_a_shorter_id() -> None:
    problem = single(run(csv_bytes([SPOT_HEADER, spot_row("")])))
    assert (problem.row, problem.letter, problem.field) == (2, "A", "event_id")
    assert "the event_id template needs it" in problem.message


def test_a_text_where_a_count_belongs_and_a_zero_whole_are_named_at_their_cells() -> None:
    result = run(csv_bytes([SPOT_HEADER, spot_row("1", ok="seven"), spot_row("2", checked=0, ok=0)]))
    assert [(p.row, p.letter, p.message) for p in result.problems] == [
        (2, "H", "is not a whole number"),
        (3, "G", "is 0, so the percentage payload.items_compliant / payload.items_checked cannot be computed"),
    ]


def test_every_problem_of_every_row_is_collected_up_to_the_limit() -> None:
    rows = [SPOT_HEADER] + [spot_row(str(i), on="bad", ok="x") for i in range(30)]
    result = run(csv_bytes(rows), max_problems=25)
    assert len(result.problems) == 25 and result.truncated == 35
    assert result.messages()[-1] == "... and 35 more problems (only the first 25 are listed)"
    assert {p.letter for p in result.problems} == {"E", "H"}


def test_a_recorded_time_in_the_future_is_a_problem_when_now_is_given() -> None:
    now = datetime(2026, 2, 3, 15, 0, tzinfo=__import__("datetime").timezone.utc)
    problem = single(run(csv_bytes([SPOT_HEADER, spot_row("1")]), now=now))
    assert (problem.row, problem.letter, problem.field) == (2, "F", "recorded_at")
    assert problem.message == "lies in the future (now is 2026-02-03T15:00:00Z)"


def test_the_row_named_is_the_spreadsheet_row_even_after_a_cell_with_line_breaks() -> None:
    # Excel shows a quoted cell with line breaks as one row; the file has more lines than rows.
    rows = [SPOT_HEADER, spot_row("1", by="DM-1\nsecond line\nthird"), spot_row("2", on="soon")]
    problem = next(p for p in run(csv_bytes(rows)).problems if p.event_id != "SC-1")
    assert (problem.row, problem.letter) == (3, "E")


def test_the_row_and_column_named_in_a_workbook_are_those_of_the_cell_written() -> None:
    import io

    from openpyxl import load_workbook

    mapping = SPOT_CHECK_MAPPING.replace(
        'kind = "SpotCheckRecorded"', 'kind = "SpotCheckRecorded"\nsheet = "Log"\nheader_row = 4\nfirst_data_row = 6'
    )
    rows: list[list[Any]] = [
        ["Title"],
        ["by the deputy"],
        [],
        [None, *SPOT_HEADER],
        [None, "(example row, skipped)"],
        [None, *spot_row("1")],
        [None, *spot_row("2", ok="many")],
    ]
    data = xlsx_bytes({"Log": rows})
    problem = single(run(data, mapping, name="log.xlsx"))
    cell = load_workbook(io.BytesIO(data))["Log"].cell(problem.row or 0, (problem.column or 0) + 1)
    assert (cell.row, cell.column_letter, cell.value) == (7, "I", "many")
    assert problem.where() == "sheet 'Log', row 7, column I ('OK')"


def test_a_missing_sheet_lists_the_sheets_the_workbook_has() -> None:
    mapping = SPOT_CHECK_MAPPING.replace('kind = "SpotCheckRecorded"', 'kind = "SpotCheckRecorded"\nsheet = "Checks"')
    problem = single(run(xlsx_bytes({"Audit": [["x"]], "Other": [["y"]]}), mapping, name="a.xlsx"))
    assert problem.message == "the workbook has no sheet 'Checks' (its sheets: 'Audit', 'Other')"


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (b"not a zip at all", "a.xlsx", "the file is not an xlsx workbook"),
        (b"PK\x03\x04broken", "a.xlsx", "the file cannot be read as an xlsx workbook"),
        (b"PK\x03\x04broken", "a.csv", "the file is a zipped workbook (xlsx or ods), not CSV"),
    ],
)
def test_a_file_that_is_not_what_it_claims_is_one_problem(data: bytes, name: str, expected: str) -> None:
    assert single(run(data, name=name)).message.startswith(expected)


def test_a_problem_is_always_one_line_whatever_the_cell_holds() -> None:
    rows = [SPOT_HEADER, spot_row("1", on="01/01/2026\n\x1b[31m10:00"), spot_row("2", rnd="We\nst\r")]
    result = run(csv_bytes(rows))
    for text in result.messages():
        assert "\n" not in text and "\r" not in text and "\x1b" not in text, text


MAPPINGS = [SPOT_CHECK_MAPPING, SCORED]


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400), st.sampled_from(["a.csv", "a.xlsx", "a.ods"]))
def test_no_bytes_give_a_traceback(data: bytes, name: str) -> None:
    result = run(data, name=name)
    assert isinstance(result.problems, list)


cells = st.one_of(
    st.none(),
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12),
    st.integers(-10, 10**6),
    st.floats(allow_nan=True),
    st.booleans(),
    st.dates(),
    st.datetimes(min_value=datetime(1900, 1, 1)),
)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(cells, max_size=10), max_size=6), st.sampled_from(MAPPINGS))
def test_no_cell_values_give_a_traceback_and_every_event_validates(rows: list[list[Any]], mapping: str) -> None:
    from insightlog.interchange.validation import validate_object

    data = xlsx_bytes({"S": [SPOT_HEADER, *rows]})
    result = run(data, mapping, name="a.xlsx")
    for event in result.events:
        validate_object(event)
    assert all(str(p) for p in result.problems)


def test_date_cells_are_never_mistaken_for_numbers() -> None:
    row: list[Any] = [*spot_row("1")]
    row[4] = date(2026, 2, 3)
    result = run(xlsx_bytes({"S": [SPOT_HEADER, row]}), name="a.xlsx")
    assert result.ok, result.messages()
