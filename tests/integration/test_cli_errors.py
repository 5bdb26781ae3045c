"""Every command's user errors: one line on stderr, no traceback, a non-zero exit, nothing written.

The root group translates every ``InsightlogError`` (and a file the user named that cannot be
read or written) in one place; anything else propagating out of a command is a bug, and
``catch_exceptions=False`` turns it into a failing test here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from insightlog.cli.main import cli
from tests.helpers import HARBOUR

SERVICE = "Harbour Home Care"
PAYLOAD = '{"evidence_score": 2, "evidence_category": "observation", "source_type": "spot_check", "summary": "x"}'


def run(args: list[str], input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, args, input=input, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def store(tmp_path: Path, stores) -> list[str]:  # type: ignore[no-untyped-def]
    settings = stores.new()
    args = stores.cli_args(settings)
    code, _, err = run([*args, "import", str(HARBOUR)])
    assert code == 0, err
    return args


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


CASES = [
    ("unknown service in history", ["history", "--service", "Oak House"], "no events of service 'Oak House'"),
    ("unknown service in analyse", ["analyse", "--service", "Oak House"], "no events of service 'Oak House'"),
    ("bad as-of", ["analyse", "--service", SERVICE, "--as-of", "yesterday"], "as-of"),
    ("bad as-of in view", ["view", "--as-of", "2026-13-01"], ""),
    (
        "unknown kind",
        [
            "record",
            "NoSuchKind",
            "--service",
            SERVICE,
            "--actor-role",
            "deputy_manager",
            "--actor-id",
            "DM-1",
            "--payload",
            PAYLOAD,
        ],
        "kind",
    ),
    (
        "payload not JSON",
        [
            "record",
            "SpotCheckRecorded",
            "--service",
            SERVICE,
            "--actor-role",
            "deputy_manager",
            "--actor-id",
            "DM-1",
            "--payload",
            "{",
        ],
        "payload",
    ),
    (
        "observed in the future",
        [
            "record",
            "SpotCheckRecorded",
            "--service",
            SERVICE,
            "--theme",
            "medicines.mar_charts",
            "--actor-role",
            "deputy_manager",
            "--actor-id",
            "DM-1",
            "--observed-at",
            "2999-01-01",
            "--payload",
            PAYLOAD,
        ],
        "observed",
    ),
    ("prove an unknown event", ["prove", "NOPE-1"], "NOPE-1"),
    ("checkpoint without a key", ["checkpoint"], "no signing key"),
    ("pack without a checkpoint", ["pack", "--service", SERVICE, "-o", "p.zip"], "checkpoint"),
    ("unknown taxonomy", ["taxonomy", "show", "NOPE-2030"], "NOPE-2030"),
    ("roles on SQLite or read-only", ["--read-only", "db", "roles"], "roles"),
]


@pytest.mark.parametrize(("case", "args", "needle"), CASES, ids=[c[0] for c in CASES])
def test_a_user_error_is_one_line_with_no_traceback_and_writes_nothing(
    store: list[str], tmp_path: Path, case: str, args: list[str], needle: str
) -> None:
    before = _files(tmp_path)
    code, out, err = run([*store, *args])
    assert code != 0, (case, out, err)
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, (case, err)
    assert lines[0].startswith("Error: "), (case, err)
    assert "Traceback" not in err + out
    assert needle.lower() in lines[0].lower(), (case, lines[0])
    after = {k: v for k, v in _files(tmp_path).items() if not k.endswith(("-wal", "-shm", "-writer"))}
    assert after == {k: v for k, v in before.items() if not k.endswith(("-wal", "-shm", "-writer"))}, case


def test_a_bad_trusted_key_file_is_one_line(store: list[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.pub"
    bad.write_text("not a key\n")
    code, out, err = run([*store, "verify", "--trusted-key", str(bad)])
    assert code != 0 and "Traceback" not in err + out
    assert [line for line in err.splitlines() if line.strip()] == [err.strip()]
    assert "bad.pub" in err


def test_a_bad_signing_key_file_is_one_line(store: list[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.key"
    bad.write_text("not a key\n")
    code, out, err = run([*store, "--key", str(bad), "checkpoint"])
    assert code != 0 and "Traceback" not in err + out
    assert len([line for line in err.splitlines() if line.strip()]) == 1
    assert "bad.key" in err


def test_an_unreadable_import_file_is_one_line(store: list[str], tmp_path: Path) -> None:
    folder = tmp_path / "a-folder.jsonl"
    folder.mkdir()
    code, out, err = run([*store, "import", str(folder)])
    assert code != 0 and "Traceback" not in err + out
    assert len([line for line in err.splitlines() if line.strip()]) == 1


def test_a_bad_policy_file_is_one_line(store: list[str], tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text("adverse_threshold = 'high'\n")
    code, out, err = run([*store, "analyse", "--service", SERVICE, "--policy", str(policy)])
    assert code != 0 and "Traceback" not in err + out
    assert err.startswith("Error: policy ") and len(err.strip().splitlines()) == 1
