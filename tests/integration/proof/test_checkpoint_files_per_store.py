"""Checkpoint files per store: two stores in one folder never share the default outside file, and
verify given a file that mixes stores skips the other stores' lines, says how many, and fails
only on a checkpoint of this store that disagrees."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import HARBOUR, ROOT, invoke

CORRECTIONS = ROOT / "examples" / "harbour_home_care_corrections.jsonl"


@pytest.fixture
def two_stores(stores, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], list[str]]:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)  # the default keys and checkpoint files land in the working directory
    a, b = stores.cli_args(stores.new()), stores.cli_args(stores.new())
    assert invoke(["keys", "init"]).exit_code == 0
    assert invoke([*a, "import", str(HARBOUR)]).exit_code == 0
    assert invoke([*b, "import", str(CORRECTIONS)]).exit_code == 0
    return a, b


def test_two_stores_in_one_folder_keep_one_outside_file_each(
    two_stores: tuple[list[str], list[str]], tmp_path: Path
) -> None:
    files = sorted((tmp_path / "insightlog-checkpoints").glob("*.jsonl"))
    assert len(files) == 2
    origins = [json.loads(f.read_text().splitlines()[0])["origin"] for f in files]
    # Check each file is named after, and holds only, its own store's log.
    assert sorted(o.rsplit("/", 1)[-1] + ".jsonl" for o in origins) == [f.name for f in files]
    for args in two_stores:
        result = invoke([*args, "verify", "--trusted-key", "insightlog-keys/provider.key.pub"])
        assert result.exit_code == 0, result.output
        assert "add --checkpoint insightlog-checkpoints/" in result.output


def test_verify_skips_the_other_stores_lines_of_a_mixed_file_and_says_how_many(
    two_stores: tuple[list[str], list[str]], tmp_path: Path
) -> None:
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text("".join(f.read_text() for f in sorted((tmp_path / "insightlog-checkpoints").glob("*.jsonl"))))
    for args in two_stores:
        result = invoke([*args, "verify", "--checkpoint", str(mixed)])
        assert result.exit_code == 0, result.output
        assert "skipped 1 checkpoint(s) of other stores" in result.output
        assert "position None" not in result.output
        assert "\n0 event(s) lie after the newest checkpoint" in result.output


def test_a_disagreeing_checkpoint_of_this_store_fails_without_position_none(
    two_stores: tuple[list[str], list[str]], tmp_path: Path
) -> None:
    a, _ = two_stores
    own = next(
        f
        for f in (tmp_path / "insightlog-checkpoints").glob("*.jsonl")
        if "skipped" not in invoke([*a, "verify", "--checkpoint", str(f)]).output
    )
    line = json.loads(own.read_text().splitlines()[0])
    line["root_hash"] = "00" * 32
    forged = tmp_path / "forged.jsonl"
    forged.write_text(json.dumps(line) + "\n")
    result = invoke([*a, "verify", "--checkpoint", str(forged)])
    assert result.exit_code == 1
    assert result.output.startswith("FAILED")
    assert "position None" not in result.output
