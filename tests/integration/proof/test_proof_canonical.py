"""RFC 8785 canonical JSON and the canonical leaf encoding of an entry."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import struct
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from insightlog.interchange.entry import Entry
from insightlog.proof.canonical import (
    CanonicalizationError,
    canonical_text,
    canonicalize,
    canonicalize_general,
    entry_leaf_bytes,
    entry_leaf_object,
    fields_leaf_object,
    format_number,
    leaf_hash,
    parse_json,
)

from .conftest import make_entry

# RFC 8785 Appendix B: IEEE 754 bit patterns and their canonical JSON numbers.
APPENDIX_B = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


def _double(bits: str) -> float:
    return struct.unpack(">d", bytes.fromhex(bits))[0]


@pytest.mark.parametrize(("bits", "expected"), APPENDIX_B)
def test_numbers_are_written_as_rfc_8785_appendix_b_says(bits: str, expected: str) -> None:
    assert format_number(_double(bits)) == expected


@pytest.mark.parametrize("bits", ["7fffffffffffffff", "7ff0000000000000", "fff0000000000000"])
def test_nan_and_the_infinities_have_no_canonical_form(bits: str) -> None:
    with pytest.raises(CanonicalizationError):
        canonicalize({"x": _double(bits)})


def test_the_rfc_8785_sample_canonicalises_to_the_published_text() -> None:
    # RFC 8785 §3.2.2 input, parsed as a JSON parser would.
    source = (
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}'
    )
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonical_text(json.loads(source)) == expected
    # Check the UTF-8 bytes listed in RFC 8785 §3.2.4.
    assert canonicalize(json.loads(source)) == bytes.fromhex(
        "7b226c69746572616c73223a5b6e756c6c2c747275652c66616c73655d2c226e756d62657273223a"
        "5b3333333333333333332e333333333333332c31652b33302c342e352c302e3030322c31652d32375d"
        "2c22737472696e67223a22e282ac245c75303030665c6e4127425c225c5c5c5c5c222f227d"
    )


def test_members_are_sorted_by_utf16_code_units_as_in_rfc_8785() -> None:
    # RFC 8785 §3.2.3 sorting example.
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    names = list(json.loads(canonical_text(value)))
    assert names == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


def test_strings_carry_only_the_minimal_escapes() -> None:
    text = canonical_text(['\x00\x1f\x7f\u2028"\\/\b\f\n\r\té😀'])
    assert text == '["\\u0000\\u001f\x7f\u2028\\"\\\\/\\b\\f\\n\\r\\té😀"]'


def test_integers_beyond_two_to_the_53_are_refused_rather_than_rounded() -> None:
    assert canonical_text([2**53, -(2**53)]) == "[9007199254740992,-9007199254740992]"
    with pytest.raises(CanonicalizationError):
        canonicalize([2**53 + 1])


@pytest.mark.parametrize(
    "value",
    [{"a": "\ud800"}, {"\udc00": 1}, {1: "x"}, {"d": datetime(2026, 1, 1)}, {"s": {1, 2}}, b"x"],
)
def test_values_without_a_json_form_are_refused(value: object) -> None:
    with pytest.raises(CanonicalizationError):
        canonicalize(value)


def test_integral_floats_and_ints_are_the_same_json_number() -> None:
    assert canonicalize({"a": 5.0, "b": -0.0, "c": 66.7}) == b'{"a":5,"b":0,"c":66.7}'


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_canonical_json_parses_back_to_the_same_value(value: object) -> None:
    data = canonicalize(value)
    assert parse_json(data) == value
    assert canonicalize(parse_json(data)) == data  # idempotent


awkward_names = st.text(
    alphabet=st.sampled_from(
        ["a", "B", "\u00e9", "\u20ac", "\ud7ff", "\ue000", "\uff61", "\U0001f600", "\U00010000", "1"]
    ),
    max_size=3,
)
awkward_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.floats()
    | st.sampled_from(
        [
            1e-4,
            9.999999999999999e-05,
            1e-5,
            4.823040373928001e-06,
            1e15,
            2.7890840981819507e20,
            999999999999999.9,
            1e16,
            5.0,
            -0.0,
            0.1,
            1e-7,
            1e21,
            2.0**53,
        ]
    )
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.tuples(children, children)
        | st.dictionaries(awkward_names, children, max_size=5)
    ),
    max_leaves=25,
)


@given(json_values | awkward_values)
def test_the_orjson_fast_path_writes_exactly_what_the_rules_write(value: object) -> None:
    assert_writes_as_the_rules(canonicalize, value, value)


def assert_writes_as_the_rules(write: object, argument: object, value: object) -> None:
    """``write(argument)`` gives ``canonicalize_general(value)``, or refuses as it does."""
    try:
        expected = canonicalize_general(value)
    except CanonicalizationError:
        with pytest.raises(CanonicalizationError):
            write(argument)  # type: ignore[operator]
        return
    assert write(argument) == expected  # type: ignore[operator]


@pytest.mark.parametrize(
    "number",
    [
        1e-4,
        9.999999999999999e-05,
        1e-5,
        4.823040373928001e-06,
        1e-7,
        0.1,
        87.5,
        999999999999999.9,
        1e15,
        1e16,
        2.7890840981819507e20,
        1e21,
        5.0,
        -0.0,
        2.0**53,
        2**53,
        -(2**53),
        2**53 + 1,
    ],
)
def test_numbers_at_the_edges_of_the_fast_path_are_written_by_the_rules(number: float) -> None:
    value = {"n": number, "list": [number]}
    assert_writes_as_the_rules(canonicalize, value, value)


def test_names_beyond_the_basic_plane_sort_as_utf16_on_the_fast_path_too() -> None:
    # U+1F600 is the surrogate pair D83D DE00 in UTF-16, so it sorts before U+E000..U+FFFF there
    # although its code point is larger.
    value = {"\uff61": 1, "\U0001f600": 2, "a": 3}
    assert canonicalize(value) == canonicalize_general(value)
    assert canonicalize(value).decode() == '{"a":3,"\U0001f600":2,"\uff61":1}'


@given(
    st.dictionaries(awkward_names | st.text(max_size=5), awkward_values, max_size=6),
    st.integers(min_value=1, max_value=2**53 + 2),
    st.sampled_from([None, "north", "\U0001f600 team", "tab\there"]),
)
def test_a_leaf_is_encoded_as_the_rules_say_whatever_its_payload(
    payload: dict[str, object], position: int, team: str | None
) -> None:
    entry = make_entry(3, payload=payload, position=position, team=team)
    assert_writes_as_the_rules(entry_leaf_bytes, entry, entry_leaf_object(entry))


def test_the_leaf_object_built_from_interchange_fields_is_the_entrys() -> None:
    # The ledger hashes from the validated fields when it appends; verify from the stored entry.
    for number in (1, 7, 42):
        entry = make_entry(number, payload={"compliance_pct": 90.0, "items": [1, 2.5, None], "n": "\u00e9"})
        built = fields_leaf_object(entry.interchange(), entry.position, f"2026-02-01T09:00:{number:02d}Z", entry.source)
        assert built == entry_leaf_object(entry)


def test_a_lone_surrogate_is_refused_on_the_fast_path_too() -> None:
    with pytest.raises(CanonicalizationError):
        canonicalize({"a": "\ud800"})
    with pytest.raises(CanonicalizationError):
        entry_leaf_bytes(make_entry(2, actor_id="\udc00"))


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_every_float_is_written_with_the_shortest_digits_that_round_trip(x: float) -> None:
    text = format_number(x)
    assert float(text) == x or (x == 0 and text == "0")
    digits = text.lstrip("-").split("e")[0].replace(".", "").strip("0")
    assert len(digits) <= len(repr(abs(x)).split("e")[0].replace(".", "").strip("0"))
    # ECMAScript layout: exponent form only outside [1e-6, 1e21).
    if x != 0:
        assert ("e" in text) == (not 1e-6 <= abs(x) < 1e21)


# --------------------------------------------------------------------------- leaf encoding

DOC_ENTRY = Entry(
    event_id="HHC-007",
    service="Harbour Home Care",
    theme="medicines.mar_charts",
    location=None,
    team="north",
    shift=None,
    kind="AuditSectionScored",
    actor_role="quality_lead",
    actor_id="QL-1",
    record="assurance_variance_log",
    observed_at=datetime(2026, 1, 9, 14, 0, tzinfo=UTC),
    recorded_at=datetime(2026, 1, 9, 16, 30, tzinfo=UTC),
    payload={
        "evidence_score": 3,
        "evidence_category": "processes",
        "source_type": "audit",
        "summary": "MAR charts: 20 of 30 signed; café round\n2 gaps",
        "items_checked": 30,
        "items_compliant": 20,
        "compliance_pct": 66.7,
        "audit_id": "A-7",
    },
    position=7,
    appended_at=datetime(2026, 1, 12, 8, 15, 42, tzinfo=UTC),
    source="import:harbour_home_care.jsonl",
)

DOC_LEAF_TEXT = (
    '{"actor_id":"QL-1","actor_role":"quality_lead","event_id":"HHC-007",'
    '"kind":"AuditSectionScored","ledger":{"appended_at":"2026-01-12T08:15:42Z",'
    '"position":7,"source":"import:harbour_home_care.jsonl"},"location":null,'
    '"observed_at":"2026-01-09T14:00:00Z","payload":{"audit_id":"A-7","compliance_pct":66.7,'
    '"evidence_category":"processes","evidence_score":3,"items_checked":30,'
    '"items_compliant":20,"source_type":"audit",'
    '"summary":"MAR charts: 20 of 30 signed; café round\\n2 gaps"},'
    '"record":"assurance_variance_log","recorded_at":"2026-01-09T16:30:00Z",'
    '"service":"Harbour Home Care","shift":null,"team":"north",'
    '"theme":"medicines.mar_charts","v":1}'
)


def test_the_documented_example_entry_encodes_to_the_documented_bytes() -> None:
    data = entry_leaf_bytes(DOC_ENTRY)
    assert data == DOC_LEAF_TEXT.encode("utf-8")
    assert leaf_hash(DOC_ENTRY) == hashlib.sha256(b"\x00" + data).digest()
    assert leaf_hash(DOC_ENTRY).hex() == DOC_LEAF_HASH


DOC_LEAF_HASH = "1baba25a879e510c2ddb4c2b84572181d4940624686377a4b15f185869882517"


def test_the_leaf_object_holds_exactly_the_envelope_the_ledger_and_the_version() -> None:
    obj = json.loads(entry_leaf_bytes(make_entry(3)))
    assert set(obj) == {
        "event_id",
        "service",
        "theme",
        "location",
        "team",
        "shift",
        "kind",
        "actor_role",
        "actor_id",
        "record",
        "observed_at",
        "recorded_at",
        "payload",
        "ledger",
        "v",
    }
    assert set(obj["ledger"]) == {"position", "appended_at", "source"}
    assert obj["v"] == 1


def test_the_leaf_ignores_extra_storage_details_and_the_time_zone_of_datetimes() -> None:
    entry = make_entry(4)
    plus_two = timezone(timedelta(hours=2))
    moved = dataclasses.replace(
        entry,
        extra={"ciphertext": "..."},
        observed_at=entry.observed_at.astimezone(plus_two),
        appended_at=entry.appended_at.astimezone(plus_two) if entry.appended_at else None,
    )
    assert entry_leaf_bytes(moved) == entry_leaf_bytes(entry)
    # Payload member order does not matter either.
    reordered = dataclasses.replace(entry, payload=dict(reversed(list(entry.payload.items()))))
    assert leaf_hash(reordered) == leaf_hash(entry)


@pytest.mark.parametrize(
    "change",
    [
        {"event_id": "HHC-999"},
        {"service": "Other"},
        {"theme": None},
        {"location": "Maple"},
        {"team": "south"},
        {"shift": "night"},
        {"kind": "IncidentRecorded"},
        {"actor_role": "registered_manager"},
        {"actor_id": "QL-2"},
        {"record": None},
        {"observed_at": datetime(2026, 1, 2, 10, 0, 1, tzinfo=UTC)},
        {"recorded_at": datetime(2026, 1, 2, 10, 5, 1, tzinfo=UTC)},
        {"payload": {"evidence_score": 3}},
        {"position": 2},
        {"appended_at": datetime(2026, 2, 1, tzinfo=UTC)},
        {"source": "backfill:harbour.jsonl"},
    ],
)
def test_changing_any_part_of_the_event_changes_its_leaf_hash(change: dict[str, object]) -> None:
    assert leaf_hash(make_entry(1, **change)) != leaf_hash(make_entry(1))


def test_a_one_digit_change_deep_in_the_payload_changes_the_leaf_hash() -> None:
    entry = make_entry(1)
    changed = dataclasses.replace(entry, payload={**entry.payload, "compliance_pct": 66.8})
    assert leaf_hash(changed) != leaf_hash(entry)


@pytest.mark.parametrize(
    "change",
    [
        {"position": 0},
        {"appended_at": None},
        {"observed_at": datetime(2026, 1, 2, 9, 0)},
        {"payload": {"ratio": math.nan}},
    ],
)
def test_an_entry_that_cannot_be_encoded_is_refused(change: dict[str, object]) -> None:
    with pytest.raises(CanonicalizationError):
        entry_leaf_bytes(make_entry(1, **change))


def test_fractions_of_a_second_are_dropped_from_timestamps() -> None:
    entry = make_entry(1)
    assert entry.appended_at is not None
    later = dataclasses.replace(entry, appended_at=entry.appended_at.replace(microsecond=999_999))
    assert entry_leaf_bytes(later) == entry_leaf_bytes(entry)
