"""Random input through `import` and `record` (issue 12 item 5), on SQLite and PostgreSQL: never a
traceback, and a refused command leaves the store exactly as it was (never a partial write); an
accepted `record` adds exactly one event."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from insightlog.cli.main import cli
from tests.helpers import HARBOUR, harbour_lines

_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)

# Characters that matter at the edge: controls, invisibles, surrogates (as argv may carry them),
# non-ASCII letters and JSON's own punctuation.
_EDGE = st.sampled_from(
    ["\x00", "\n", "\t", "\x7f", "\x85", "\u200b", "\u202e", "\u2028", "\ufeff", "\udcff", '"', "\\", ":", "é", "Ω"]
)
_text = st.text(st.one_of(st.characters(codec="utf-8"), _EDGE), max_size=12)
_numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([2**53 - 1, 2**53, -(2**53), 2**64, 10**30]),
    st.floats(allow_nan=True, allow_infinity=True),
)
_json = st.recursive(
    st.one_of(st.none(), st.booleans(), _numbers, _text),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_text, children, max_size=3),
    max_leaves=12,
)


def _dumps(value: Any) -> bytes:
    """JSON text of any value: NaN and Infinity as their (invalid) literals, surrogates as escapes."""
    return json.dumps(value, ensure_ascii=True).encode("ascii")


def _deep(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


def _run(args: list[str], stdin: bytes | None = None) -> Any:
    # catch_exceptions=False: an exception inside a command fails the test with its traceback.
    return CliRunner().invoke(cli, args, input=stdin, catch_exceptions=False)


def _export(store: list[str]) -> bytes:
    result = _run([*store, "export"])
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


def _other_service_lines() -> list[bytes]:
    """Valid lines of a service not yet in the store: a partial import would show."""
    lines = []
    for row in harbour_lines()[:12]:
        row = dict(row, service="Property Home", event_id="P-" + row["event_id"])
        if row["kind"] == "JudgementRecorded" and row["payload"].get("supersedes"):
            row["payload"] = dict(row["payload"], supersedes="P-" + row["payload"]["supersedes"])
        lines.append(json.dumps(row).encode())
    return lines


def _mutated(value: Any, path: list[str], replacement: Any) -> Any:
    if not path:
        return replacement
    out = dict(value) if isinstance(value, dict) else value
    if isinstance(out, dict):
        out[path[0]] = _mutated(out.get(path[0], {}), path[1:], replacement)
    return out


_FIELDS = st.sampled_from(
    [
        ["event_id"],
        ["service"],
        ["theme"],
        ["kind"],
        ["actor_role"],
        ["actor_id"],
        ["team"],
        ["record"],
        ["observed_at"],
        ["recorded_at"],
        ["payload"],
        ["ledger"],
        ["payload", "evidence_score"],
        ["payload", "summary"],
        ["payload", "extra"],
        ["payload", "extra", "deep"],
        ["payload", "items_checked"],
        ["payload", "compliance_pct"],
    ]
)
_line = st.one_of(
    st.binary(max_size=60),
    _json.map(_dumps),
    st.tuples(st.integers(0, 69), _FIELDS, _json).map(lambda t: _dumps(_mutated(harbour_lines()[t[0]], t[1], t[2]))),
    st.tuples(st.integers(0, 69), st.integers(60, 90)).map(
        lambda t: _dumps(_mutated(harbour_lines()[t[0]], ["payload", "deep"], _deep(t[1])))
    ),
    st.tuples(st.integers(0, 69), _text).map(
        lambda t: _dumps(harbour_lines()[t[0]])[:-1] + b', "service": ' + _dumps(t[1]) + b"}"
    ),
)


@pytest.fixture
def seeded(stores) -> list[str]:  # type: ignore[no-untyped-def]
    store = stores.cli_args(stores.new())
    assert _run([*store, "import", str(HARBOUR)]).exit_code == 0
    return store


@_SETTINGS
@given(lines=st.lists(_line, min_size=1, max_size=4), position=st.integers(0, 12))
def test_random_lines_in_an_import_never_crash_and_never_write_part_of_a_file(
    seeded: list[str], tmp_path_factory, lines: list[bytes], position: int
) -> None:
    good = _other_service_lines()
    body = good[:position] + lines + good[position:]
    path = tmp_path_factory.mktemp("prop") / "random.jsonl"
    path.write_bytes(b"\n".join(body) + b"\n")
    before = _export(seeded)
    result = _run([*seeded, "import", str(path)])
    # Check: a refusal is a one-line error and leaves the store as it was; an acceptance
    # imported the whole file.
    assert result.exit_code in (0, 1), result.output
    after = _export(seeded)
    if result.exit_code == 1:
        err = result.output.strip()
        assert err.startswith("Error: line ") and err.count("\n") == 0, err
        assert after == before
    else:
        assert after.startswith(before) and b'"P-HHC-001"' in after


_OPTION = st.sampled_from(
    [
        "--service",
        "--theme",
        "--location",
        "--team",
        "--shift",
        "--actor-role",
        "--actor-id",
        "--record",
        "--observed-at",
        "--event-id",
    ]
)
_KIND = st.one_of(
    st.sampled_from(["SpotCheckRecorded", "ReviewHeld", "EvidenceAmended", "ServiceRegistered", "JudgementRevised"]),
    _text.filter(lambda s: not s.startswith("-")),
)
_PAYLOAD = st.one_of(
    _json.map(_dumps),
    st.binary(max_size=40),
    st.dictionaries(
        st.sampled_from(
            [
                "evidence_score",
                "evidence_category",
                "source_type",
                "summary",
                "level",
                "amends",
                "changes",
                "reason",
                "compliance_pct",
                "extra",
            ]
        ),
        _json,
        max_size=6,
    ).map(_dumps),
)


@_SETTINGS
@given(
    kind=_KIND,
    options=st.dictionaries(_OPTION, _text, max_size=5),
    payload=_PAYLOAD,
    via=st.sampled_from(["arg", "stdin", "file"]),
)
def test_random_records_never_crash_and_write_one_event_or_nothing(
    seeded: list[str], tmp_path_factory, kind: str, options: dict[str, str], payload: bytes, via: str
) -> None:
    base = {
        "--service": "Harbour Home Care",
        "--theme": "medicines.mar_charts",
        "--actor-role": "deputy_manager",
        "--actor-id": "DM-1",
    }
    base.update(options)
    args = ["record", kind]
    for option, value in base.items():
        args += [option, value]
    stdin = None
    if via == "arg":
        args += ["--payload", payload.decode("utf-8", "surrogateescape")]
    elif via == "stdin":
        args += ["--payload", "-"]
        stdin = payload
    else:
        path = tmp_path_factory.mktemp("payload") / "p.json"
        path.write_bytes(payload)
        args += ["--payload", f"@{path}"]
    before = _export(seeded)
    result = _run([*seeded, *args], stdin)
    assert result.exit_code in (0, 1, 2), result.output
    after = _export(seeded)
    if result.exit_code == 0 and "Usage:" not in result.output:
        assert after.startswith(before) and after.count(b"\n") == before.count(b"\n") + 1
    else:
        assert after == before
        assert "Traceback" not in result.output


def test_the_json_strategy_reaches_the_cases_that_matter() -> None:
    """The generators can produce what the rules are about (a guard against a toothless test)."""
    assert _dumps(float("nan")) == b"NaN" and math.isinf(json.loads(_dumps(float("inf"))))
    assert b"\\udcff" in _dumps("\udcff")
    assert _dumps(_deep(70)).count(b"[") == 70
