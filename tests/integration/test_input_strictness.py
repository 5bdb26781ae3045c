"""Input exactly as the interchange spec says (issue 12 item 5), through `import` on SQLite and
PostgreSQL: each case is a one-line error naming the line and the field, a non-zero exit, no
traceback, and nothing of the file written. The rules are in docs/spec-notes.md."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import harbour_lines, invoke

ROWS = harbour_lines()
GOOD_PREFIX = ROWS[:15]  # lines 1-15 are valid: a bad line 16 must keep them out of the store too


def _line(row: dict[str, Any]) -> bytes:
    return json.dumps(row, ensure_ascii=False).encode("utf-8")


def _row(index: int = 15, **changes: Any) -> dict[str, Any]:
    row = json.loads(json.dumps(ROWS[index]))
    for path, value in changes.items():
        target = row
        *parents, last = path.split("__")
        for p in parents:
            target = target[p]
        target[last] = value
    return row


def _replace(old: bytes, new: bytes, index: int = 15) -> Callable[[], bytes]:
    def build() -> bytes:
        raw = _line(ROWS[index])
        assert old in raw, (old, raw)
        return raw.replace(old, new, 1)

    return build


def _nested(depth: int) -> Any:
    value: Any = []
    for _ in range(depth - 1):
        value = [value]
    return value


# (name, builder of line 16's bytes, field named, message fragment). Line 16 is HHC-016, a
# FeedbackReceived of team south; lines 1-15 stay valid.
Case = tuple[str, Callable[[], bytes], str, str]
CASES: list[Case] = [
    # whole-string patterns: Python's `$` matched before a trailing newline
    ("event id ending in a newline", lambda: _line(_row(event_id="HHC-016\n")), "event_id", "1-64 characters"),
    ("theme ending in a newline", lambda: _line(_row(theme="call_punctuality\n")), "theme", "U+000A"),
    (
        "scope ending in a newline",
        lambda: _line(
            _row(
                9,
                payload__exceptions=[{"theme": None, "scope": "team:south\n", "score": 2, "note": "n"}],
                event_id="HHC-016",
            )
        ),
        "payload.exceptions[0].scope",
        "U+000A",
    ),
    # control and invisible characters in names and identifiers
    ("NUL in the service", lambda: _line(_row(service="Harbour Home Care\x00")), "service", "U+0000"),
    ("newline in the actor id", lambda: _line(_row(actor_id="TL\nS")), "actor_id", "U+000A"),
    ("tab in the team", lambda: _line(_row(team="so\tuth")), "team", "U+0009"),
    ("zero-width space in the location", lambda: _line(_row(location="Maple\u200b")), "location", "U+200B"),
    ("bidi override in the record", lambda: _line(_row(record="log\u202e")), "record", "U+202E"),
    ("no-break space in the service", lambda: _line(_row(service="Harbour\u00a0Home Care")), "service", "U+00A0"),
    ("line separator in the actor id", lambda: _line(_row(actor_id="TL\u2028S")), "actor_id", "U+2028"),
    ("DEL in the theme", lambda: _line(_row(theme="call_punctuality\x7f")), "theme", "U+007F"),
    ("C1 control in the actor id", lambda: _line(_row(actor_id="TL\u0085S")), "actor_id", "U+0085"),
    (
        "newline in a payload name field",
        lambda: _line(_row(payload__source_type="staff\nfeedback")),
        "payload.source_type",
        "U+000A",
    ),
    (
        "zero-width space in an audit id",
        lambda: _line(_row(13, event_id="HHC-016", payload__audit_id="MAR-AUDIT\u200b-2026-01")),
        "payload.audit_id",
        "U+200B",
    ),
    (
        "tab in a quality statement id",
        lambda: _line(_row(2, event_id="HHC-016", payload__quality_statements=["S8", "W\t5"])),
        "payload.quality_statements[1]",
        "U+0009",
    ),
    (
        "control character in a key",
        lambda: _line(_row(payload__bad_key={"a\u200bb": 1})),
        'payload.bad_key["a\\u200bb"]',
        "U+200B",
    ),
    # free text: tab, LF and CR are allowed, other control characters are not, in any field
    ("NUL in a summary", lambda: _line(_row(payload__summary="cut\x00short")), "payload.summary", "U+0000"),
    (
        "escape character in an extra field",
        lambda: _line(_row(payload__harm={"note": "x\x1by"})),
        "payload.harm.note",
        "U+001B",
    ),
    ("C1 control in free text", lambda: _line(_row(payload__summary="caf\u0080e")), "payload.summary", "U+0080"),
    ("raw DEL in free text", lambda: _line(_row(payload__summary="a\x7fb")), "payload.summary", "U+007F"),
    # duplicate keys, at any depth, however spelt
    (
        "event id named twice",
        _replace(b'"service":', b'"event_id": "HHC-999", "service":'),
        "event_id",
        "appears twice",
    ),
    ("service named twice", _replace(b'"theme":', b'"service": "Other", "theme":'), "service", "appears twice"),
    (
        "payload field named twice",
        _replace(b'"summary":', b'"summary": "first", "summary":'),
        "payload.summary",
        "appears twice",
    ),
    (
        "key named twice in a nested extra",
        lambda: _line(_row(payload__x={"y": 1})).replace(b'{"y": 1}', b'{"y": 1, "y": 2}'),
        "payload.x.y",
        "appears twice",
    ),
    (
        "key named twice with space before the colon",
        _replace(b'"summary":', b'"summary" : "first", "summary":'),
        "payload.summary",
        "appears twice",
    ),
    (
        "key named twice among escaped quotes",
        _replace(b'"summary":', b'"note": "said \\": no\\"", "summary": "first", "summary":'),
        "payload.summary",
        "appears twice",
    ),
    ("escaped newline in a key", lambda: _line(_row(payload__extra={"a\nb": 1})), 'payload.extra["a\\nb"]', "U+000A"),
    (
        "escaped zero-width space in the service",
        lambda: json.dumps(_row(service="Harbour Home Care\u200b")).encode(),
        "service",
        "U+200B",
    ),
    (
        "escaped bidi override in a payload name",
        lambda: json.dumps(_row(payload__source_type="staff\u202efeedback")).encode(),
        "payload.source_type",
        "U+202E",
    ),
    (
        "escaped C1 control in free text",
        lambda: json.dumps(_row(payload__summary="a\u0085b")).encode(),
        "payload.summary",
        "U+0085",
    ),
    (
        "key named twice through an escape",
        _replace(b'"summary":', b'"summ\\u0061ry": "first", "summary":'),
        "payload.summary",
        "appears twice",
    ),
    # integers beyond I-JSON, everywhere; numbers that are not finite
    ("integer 2**53 in an extra field", lambda: _line(_row(payload__ref=2**53)), "payload.ref", "I-JSON"),
    ("integer -(2**53) in a list", lambda: _line(_row(payload__refs=[1, -(2**53)])), "payload.refs[1]", "I-JSON"),
    ("integer 2**64 (orjson makes it a float)", lambda: _line(_row(payload__ref=2**64)), "payload.ref", "I-JSON"),
    (
        "integer literal of 31 digits, nested",
        lambda: _line(_row(payload__x={"y": [10**30]})),
        "payload.x.y[0]",
        "I-JSON",
    ),
    (
        "integer beyond I-JSON in the ledger object",
        lambda: _line(_row(ledger={"position": 2**60})),
        "ledger.position",
        "I-JSON",
    ),
    (
        "number overflowing a double",
        _replace(b'"evidence_score": 2', b'"evidence_score": 2, "big": 1e400'),
        "(line)",
        "not valid JSON",
    ),
    ("NaN", _replace(b'"evidence_score": 2', b'"evidence_score": NaN'), "(line)", "not valid JSON"),
    # invalid UTF-8
    ("invalid start byte in a string", _replace(b"South carers", b"South \xffcarers"), "(line)", "not valid UTF-8"),
    ("truncated sequence", _replace(b"South carers", b"South \xe2\x82carers"), "(line)", "not valid UTF-8"),
    ("overlong encoding", _replace(b"South carers", b"South \xc0\xafcarers"), "(line)", "not valid UTF-8"),
    ("encoded surrogate", _replace(b"South carers", b"South \xed\xa0\x80carers"), "(line)", "not valid UTF-8"),
    ("invalid byte outside strings", lambda: _line(ROWS[15]) + b" \x80", "(line)", "not valid UTF-8"),
    ("Latin-1 text", _replace(b"South carers", "Søuth carers".encode("latin-1")), "(line)", "not valid UTF-8"),
    ("lone surrogate escape", _replace(b"South carers", b"South \\ud800carers"), "(line)", "not valid JSON"),
    # wrong JSON types for envelope fields
    ("kind as a list", lambda: _line(_row(kind=["FeedbackReceived"])), "kind", "must be a string"),
    ("kind as an object", lambda: _line(_row(kind={"name": "FeedbackReceived"})), "kind", "must be a string"),
    ("kind as a number", lambda: _line(_row(kind=7)), "kind", "must be a string"),
    ("actor role as a list", lambda: _line(_row(actor_role=["team_leader"])), "actor_role", "must be a string"),
    ("service as a number", lambda: _line(_row(service=12)), "service", "non-empty string"),
    ("theme as a list", lambda: _line(_row(theme=["call_punctuality"])), "theme", "non-empty string"),
    ("record as an object", lambda: _line(_row(record={"a": 1})), "record", "non-empty string"),
    ("observed_at as a number", lambda: _line(_row(observed_at=20260120)), "observed_at", "RFC 3339"),
    ("event id as a number", lambda: _line(_row(event_id=16)), "event_id", "1-64 characters"),
    ("payload as a list", lambda: _line(_row(payload=[1])), "payload", "JSON object"),
    ("payload as a string", lambda: _line(_row(payload="{}")), "payload", "JSON object"),
    ("ledger as a string", lambda: _line(_row(ledger="live")), "ledger", "JSON object"),
    ("line is an array", lambda: b"[1, 2]", "(line)", "JSON object"),
    ("kind nested 300 deep", lambda: _line(_row(kind=_nested(300))), "kind", "must be a string"),
    # nesting deeper than the documented limit (64 levels, the line's object is level 1)
    (
        "extra field 65 levels deep",
        lambda: _line(_row(payload__deep=_nested(63))),
        "payload.deep[0][0]…",
        "deeper than 64 levels",
    ),
    (
        "extra field 600 levels deep",
        lambda: _line(_row(payload__deep=_nested(600))),
        "payload.deep[0][0]…",
        "deeper than 64 levels",
    ),
    (
        "extra field 2000 levels deep",
        _replace(b'"evidence_score": 2', b'"deep": ' + b"[" * 2000 + b"]" * 2000 + b', "evidence_score": 2'),
        "(line)",
        "deeper than 64 levels",
    ),
    (
        "1000 levels behind a control escape",
        _replace(
            b'"evidence_score": 2', b'"x": "\\u0007", "deep": ' + b"[" * 1000 + b"]" * 1000 + b', "evidence_score": 2'
        ),
        "(line)",
        "deeper than 64 levels",
    ),
    (
        "1000 levels behind a float beyond 2**53",
        _replace(
            b'"evidence_score": 2', b'"x": 1e300, "deep": ' + b"[" * 1000 + b"]" * 1000 + b', "evidence_score": 2'
        ),
        "(line)",
        "deeper than 64 levels",
    ),
    (
        "deep nesting behind an escape",
        lambda: _line(_row(payload__summary="a\\b", payload__deep=_nested(80))),
        "payload.deep[0][0]…",
        "deeper than 64 levels",
    ),
]


def _export(args: list[str]) -> bytes:
    result = invoke([*args, "export"])
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


def _write(tmp_path: Path, bad: bytes) -> Path:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b"".join(_line(r) + b"\n" for r in GOOD_PREFIX) + bad + b"\n")
    return path


@pytest.mark.parametrize(("name", "build", "field", "message"), CASES, ids=[c[0] for c in CASES])
def test_a_line_the_spec_forbids_is_refused_naming_line_and_field_and_nothing_is_written(
    stores, tmp_path: Path, name: str, build: Callable[[], bytes], field: str, message: str
) -> None:
    args = stores.cli_args(stores.new())
    result = invoke([*args, "import", str(_write(tmp_path, build()))])
    # Check the one-line message names line 16 and the field, the exit is non-zero, and nothing
    # of the file (not even its 15 valid lines) was written.
    assert result.exit_code != 0
    err = result.output.strip()
    assert err.count("\n") == 0, err
    assert "Traceback" not in err
    assert err.startswith("Error: line 16"), err
    assert f"field '{field}'" in err, err
    assert message in err, err
    assert _export(args) == b""


def test_the_event_id_is_named_when_it_is_valid_even_if_decoding_fails_later(stores, tmp_path: Path) -> None:
    args = stores.cli_args(stores.new())
    bad = _line(ROWS[15]).replace(b'"summary":', b'"summary": "x", "summary":')
    result = invoke([*args, "import", str(_write(tmp_path, bad))])
    assert "line 16 (event HHC-016): field 'payload.summary': appears twice" in result.output


ACCEPTED = [
    ("integer 2**53-1", {"payload__ref": 2**53 - 1}),
    ("integer -(2**53-1)", {"payload__ref": -(2**53 - 1)}),
    ("a large float", {"payload__ratio": 1e300}),
    ("free text with tab, newline and carriage return", {"payload__summary": "one\ttwo\nthree\r\nfour"}),
    (
        "free text with escaped quotes, backslashes and colons",
        {"payload__summary": 'he said "no": see C:\\notes\\', "payload__x": {"k": '":'}},
    ),
    ("free text with emoji, bidi text and a zero-width joiner", {"payload__summary": "ok 👩\u200d⚕️ שלום \u200f"}),
    ("a name in another script", {"actor_id": "Зоя-1", "team": "süd"}),
    ("64 levels of nesting", {"payload__deep": _nested(62)}),
]


def test_text_written_with_unicode_escapes_is_the_same_text(stores, tmp_path: Path) -> None:
    args = stores.cli_args(stores.new())
    row = _row(actor_id="Zoë-1", payload__summary="café – “quoted” \u200d emoji 👩\u200d⚕️")
    path = tmp_path / "escaped.jsonl"
    path.write_bytes(b"".join(json.dumps(r).encode("ascii") + b"\n" for r in [*GOOD_PREFIX, row]))  # \uXXXX escapes
    result = invoke([*args, "import", str(path)])
    assert result.exit_code == 0, result.output
    exported = [json.loads(line) for line in _export(args).splitlines()]
    assert exported[-1]["payload"]["summary"] == row["payload"]["summary"] and exported[-1]["actor_id"] == "Zoë-1"


@pytest.mark.parametrize(("name", "changes"), ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_what_the_spec_allows_is_imported_and_exported_unchanged(
    stores, tmp_path: Path, name: str, changes: dict[str, Any]
) -> None:
    args = stores.cli_args(stores.new())
    row = _row(**changes)
    path = tmp_path / "ok.jsonl"
    path.write_bytes(b"".join(_line(r) + b"\n" for r in [*GOOD_PREFIX, row]))
    result = invoke([*args, "import", str(path)])
    assert result.exit_code == 0, result.output
    exported = [json.loads(line) for line in _export(args).splitlines()]
    assert exported[-1]["payload"] == row["payload"]
    assert exported[-1]["actor_id"] == row["actor_id"] and exported[-1]["team"] == row["team"]


def test_a_key_named_twice_in_valid_lines_elsewhere_in_a_big_file_is_still_found(stores, tmp_path: Path) -> None:
    # Every line takes the fast path but the one with the duplicate: the check is per line.
    args = stores.cli_args(stores.new())
    lines = [_line(r) for r in ROWS]
    lines[41] = lines[41].replace(b'"team":', b'"team": "north", "team":', 1)
    path = tmp_path / "h.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    result = invoke([*args, "import", str(path)])
    assert result.exit_code != 0
    assert "line 42 (event HHC-042): field 'team': appears twice" in result.output
    assert _export(args) == b""


def test_a_byte_order_mark_is_named_as_such(stores, tmp_path: Path) -> None:
    args = stores.cli_args(stores.new())
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + b"\n".join(_line(r) for r in ROWS) + b"\n")
    result = invoke([*args, "import", str(path)])
    assert result.exit_code != 0
    assert "line 1: field '(line)': starts with a byte-order mark" in result.output
    assert _export(args) == b""


# --- --as-of: every value outside the representable range refused cleanly ------------------

BAD_AS_OF = [
    ("2026-01-01T00:00:00+24:00", "offset"),
    ("2026-01-01T00:00:00-24:00", "offset"),
    ("2026-01-01T00:00:00+05:60", "offset"),
    ("0001-01-01T00:00:00+01:00", "years 1-9999"),
    ("9999-12-31T23:59:59-01:00", "years 1-9999"),
    ("9999-12-31", "outside the range"),
    ("0001-01-01", "outside the range"),
    ("1899-12-31T23:59:59Z", "outside the range"),
    ("2100-01-01T00:00:00Z", "outside the range"),
    ("2099-12-31T23:00:00-01:00", "outside the range"),
    ("10000-01-01", "neither"),
    ("2026-02-30", "not a valid date"),
    ("2026-01-01T24:00:00Z", "not a valid date and time"),
    ("٢٠٢٦-01-01", "neither"),
    ("2026-01-01T00:00:00.1234567890123456789012345678901234567890Z\nx", "neither"),
]
AS_OF_COMMANDS = [
    ["analyse", "--service", "Harbour Home Care"],
    ["view"],
    ["history", "--service", "Harbour Home Care"],
    ["report", "--service", "Harbour Home Care", "-o", "r.html"],
    ["pack", "--service", "Harbour Home Care", "-o", "p.zip"],
]


@pytest.fixture
def harbour_store(stores) -> list[str]:  # type: ignore[no-untyped-def]
    from tests.helpers import HARBOUR

    args = stores.cli_args(stores.new())
    assert invoke([*args, "import", str(HARBOUR)]).exit_code == 0
    return args


@pytest.mark.parametrize(("value", "message"), BAD_AS_OF, ids=[b[0] for b in BAD_AS_OF])
def test_an_as_of_outside_the_representable_range_is_refused_by_every_command(
    harbour_store: list[str], value: str, message: str
) -> None:
    for command in AS_OF_COMMANDS:
        result = invoke([*harbour_store, *command, "--as-of", value])
        # Check each command refuses with one line naming --as-of, and writes nothing.
        assert result.exit_code != 0, (command, result.output)
        err = result.output.strip()
        assert err.count("\n") == 0 and "Traceback" not in err, err
        assert "--as-of" in err and message in err, (command, err)
        assert not Path("r.html").exists() and not Path("p.zip").exists()


@pytest.mark.parametrize(
    "value", ["1900-01-01T00:00:00Z", "2099-12-31T23:59:59Z", "2099-12-31", "2026-03-31T23:59:59.5+01:00"]
)
def test_the_ends_of_the_as_of_range_work_for_every_read_command(harbour_store: list[str], value: str) -> None:
    for command in (
        ["analyse", "--service", "Harbour Home Care", "--json"],
        ["view", "--json"],
        ["history", "--service", "Harbour Home Care", "--json"],
    ):
        result = invoke([*harbour_store, *command, "--as-of", value])
        assert result.exit_code == 0, (command, result.output)
        json.loads(result.stdout)


# --- the same rules through `record` ------------------------------------------------------------

SPOT = {
    "evidence_score": 2,
    "evidence_category": "observation",
    "source_type": "spot_check",
    "summary": "2 of 5 charts unsigned",
}
BASE_OPTIONS = {
    "--service": "Oak House",
    "--theme": "medicines.mar_charts",
    "--actor-role": "deputy_manager",
    "--actor-id": "DM-1",
}


def _record_args(payload: str | None = None, **options: str) -> list[str]:
    merged = dict(BASE_OPTIONS)
    merged.update({f"--{k.replace('_', '-')}": v for k, v in options.items()})
    args = ["record", "SpotCheckRecorded"]
    for option, value in merged.items():
        args += [option, value]
    return [*args, "--payload", json.dumps(SPOT) if payload is None else payload]


RECORD_CASES: list[tuple[str, list[str], str | bytes | None, str]] = [
    ("event id ending in a newline", _record_args(event_id="MINE-1\n"), None, "--event-id: must be 1-64 characters"),
    ("theme ending in a newline", _record_args(theme="medicines.mar_charts\n"), None, "--theme: contains U+000A"),
    ("NUL in the service", _record_args(service="Oak\x00House"), None, "--service: contains U+0000"),
    ("zero-width space in the team", _record_args(team="north\u200b"), None, "--team: contains U+200B"),
    (
        "undecodable byte in the actor id (argv)",
        _record_args(actor_id="DM-\udcff"),
        None,
        "--actor-id: contains U+DCFF",
    ),
    (
        "control character in the summary",
        _record_args(json.dumps(dict(SPOT, summary="a\x07b"))),
        None,
        "--payload field 'summary': contains U+0007",
    ),
    (
        "duplicate key",
        _record_args('{"evidence_score": 2, "evidence_score": 3}'),
        None,
        "--payload field 'evidence_score': appears twice",
    ),
    (
        "integer beyond I-JSON",
        _record_args(json.dumps(dict(SPOT, ref=2**53))),
        None,
        "--payload field 'ref': integer 9007199254740992 is outside",
    ),
    (
        "integer literal beyond 64 bits",
        _record_args(json.dumps(dict(SPOT, ref=10**25))),
        None,
        "--payload field 'ref': integer",
    ),
    ("number overflowing a double", _record_args('{"evidence_score": 1e999}'), None, "--payload: is not valid JSON"),
    ("NaN", _record_args('{"evidence_score": NaN}'), None, "--payload: is not valid JSON"),
    ("nesting 65 levels", _record_args(json.dumps(dict(SPOT, deep=_nested(63)))), None, "deeper than 64 levels"),
    ("payload not an object", _record_args("[1, 2]"), None, "--payload: must be a JSON object"),
    ("invalid UTF-8 on stdin", _record_args("-"), b'{"summary": "\xff"}', "--payload: is not valid UTF-8"),
    ("invalid UTF-8 in a file", _record_args("@bad.json"), None, "--payload: is not valid UTF-8"),
    ("a payload file that is missing", _record_args("@missing.json"), None, "--payload: cannot read 'missing.json'"),
    (
        "lone surrogate in the payload text",
        _record_args('{"summary": "\udcff"}'),
        None,
        "--payload: is not valid Unicode text",
    ),
    (
        "observed-at offset of +24:00",
        _record_args(observed_at="2026-01-01T00:00:00+24:00"),
        None,
        "--observed-at '2026-01-01T00:00:00+24:00' has the offset",
    ),
    (
        "observed-at overflowing year 1",
        _record_args(observed_at="0001-01-01T00:00:00+01:00"),
        None,
        "outside the years 1-9999",
    ),
    (
        "observed-at overflowing year 9999",
        _record_args(observed_at="9999-12-31T23:59:59-01:00"),
        None,
        "outside the years 1-9999",
    ),
    (
        "observed-at with a trailing newline inside",
        _record_args(observed_at="2026-01-01\nT00:00:00Z"),
        None,
        "is not an RFC 3339 timestamp",
    ),
]


@pytest.mark.parametrize(("name", "args", "stdin", "message"), RECORD_CASES, ids=[c[0] for c in RECORD_CASES])
def test_record_refuses_what_the_spec_forbids_naming_the_option_and_writes_nothing(
    stores,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    args: list[str],
    stdin: str | bytes | None,
    message: str,
) -> None:
    from click.testing import CliRunner

    from insightlog.cli.main import cli

    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.json").write_bytes(b'{"summary": "caf\xe9"}')
    store = stores.cli_args(stores.new())
    result = CliRunner().invoke(cli, [*store, *args], input=stdin, catch_exceptions=False)
    assert result.exit_code == 1, result.output
    err = result.output.strip()
    assert err.startswith("Error: record SpotCheckRecorded: ") and err.count("\n") == 0, err
    assert message in err and "Traceback" not in err, err
    assert "il-" not in err
    assert _export(store) == b""


# --- the same rules for a dict handed to the ledger in Python (the API path, no JSON text) ------

LIVE = {
    "event_id": "API-1",
    "service": "Oak House",
    "theme": "medicines.mar_charts",
    "kind": "SpotCheckRecorded",
    "actor_role": "deputy_manager",
    "actor_id": "DM-1",
    "payload": SPOT,
}
API_CASES = [
    ("NaN", {"payload": dict(SPOT, ratio=float("nan"))}, "payload.ratio", "not finite"),
    ("infinity in a list", {"payload": dict(SPOT, ratios=[1.0, float("inf")])}, "payload.ratios[1]", "not finite"),
    ("integer beyond I-JSON", {"payload": dict(SPOT, ref=2**60)}, "payload.ref", "I-JSON"),
    ("a tuple", {"payload": dict(SPOT, pair=(1, 2))}, "payload.pair", "not a JSON value"),
    ("a non-string key", {"payload": dict(SPOT, extra={1: "a"})}, "payload.extra[1]", "not a string"),
    ("65 levels", {"payload": dict(SPOT, deep=_nested(63))}, "payload.deep[0][0]…", "deeper than 64"),
    ("control character in free text", {"payload": dict(SPOT, summary="a\x00b")}, "payload.summary", "U+0000"),
    ("control character in a name", {"actor_id": "DM\n1"}, "actor_id", "U+000A"),
    ("kind as a list", {"kind": ["SpotCheckRecorded"]}, "kind", "must be a string"),
    ("the ledger object not an object", {"ledger": 5}, "ledger", "JSON object"),
]


@pytest.mark.parametrize(("name", "changes", "field", "message"), API_CASES, ids=[c[0] for c in API_CASES])
def test_a_python_value_the_spec_forbids_is_refused_by_the_ledger_itself(
    ledger_factory, name: str, changes: dict[str, Any], field: str, message: str
) -> None:
    from insightlog.interchange.validation import LineError

    ledger = ledger_factory()
    with pytest.raises(LineError) as refused:
        ledger.record(dict(LIVE, **changes))
    assert refused.value.field == field and message in refused.value.message, refused.value
    assert ledger.head_size() == 0
