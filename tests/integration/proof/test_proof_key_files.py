"""Key files, the outside checkpoint file and packs are written safely: 0600 keys in a 0700
directory whatever the umask, and never through a planted symlink."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from insightlog.proof.keys import KeyFileError, create_key_files, load_private_key, load_public_key
from tests.helpers import HARBOUR, invoke
from tests.integration.proof.test_proof_cli_errors import assert_one_line_error, run_cli


@pytest.fixture
def umask_000() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    path = tmp_path / "victim.txt"
    path.write_bytes(b"precious\n")
    return path


def mode_of(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_keys_are_0600_in_a_0700_directory_even_under_umask_000(tmp_path: Path, umask_000: None) -> None:
    private = tmp_path / "insightlog-keys" / "provider.key"
    info = create_key_files(private, private.with_name("provider.key.pub"))
    assert mode_of(private.parent) == 0o700
    assert mode_of(private) == 0o600 and mode_of(private.with_name("provider.key.pub")) == 0o600
    assert load_public_key(private.with_name("provider.key.pub")) is not None
    assert info.key_id == info.key_id.lower() and len(info.key_id) == 64
    load_private_key(private)


def test_keys_init_through_the_cli_under_umask_000_gives_the_same_modes(tmp_path: Path, umask_000: None) -> None:
    result = invoke(["--key", str(tmp_path / "insightlog-keys" / "provider.key"), "keys", "init"])
    assert result.exit_code == 0, result.output
    assert mode_of(tmp_path / "insightlog-keys") == 0o700
    assert mode_of(tmp_path / "insightlog-keys" / "provider.key") == 0o600
    assert mode_of(tmp_path / "insightlog-keys" / "provider.key.pub") == 0o600


@pytest.mark.parametrize("which", ["provider.key", "provider.key.pub"])
@pytest.mark.parametrize("dangling", [False, True], ids=["to-a-file", "dangling"])
def test_keys_init_onto_an_existing_symlink_is_refused_in_one_line_and_writes_nothing(
    tmp_path: Path, victim: Path, which: str, dangling: bool
) -> None:
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / which).symlink_to(tmp_path / "nowhere" if dangling else victim)
    result = run_cli(["--key", str(keys / "provider.key"), "keys", "init"], tmp_path)
    assert_one_line_error(result, "never overwritten")
    assert victim.read_bytes() == b"precious\n"
    assert not (tmp_path / "nowhere").exists()
    assert os.listdir(keys) == [which]


def test_a_key_is_never_written_over_an_existing_one(tmp_path: Path) -> None:
    private = tmp_path / "provider.key"
    create_key_files(private, tmp_path / "provider.key.pub")
    before = private.read_bytes()
    with pytest.raises(KeyFileError, match="never overwritten"):
        create_key_files(private, tmp_path / "other.pub")
    assert private.read_bytes() == before and not (tmp_path / "other.pub").exists()


def _args(stores, settings, tmp_path: Path) -> list[str]:  # type: ignore[no-untyped-def]
    return [*stores.cli_args(settings), "--key", str(tmp_path / "provider.key"),
            "--checkpoint-file", str(tmp_path / "outside.jsonl")]  # fmt: skip


def test_a_symlinked_checkpoint_file_is_refused_before_the_checkpoint_is_stored(
    stores,
    tmp_path: Path,
    victim: Path,  # type: ignore[no-untyped-def]
) -> None:
    settings = stores.new()
    args = _args(stores, settings, tmp_path)
    assert invoke([*stores.cli_args(settings), "import", str(HARBOUR)]).exit_code == 0
    assert invoke([*args, "keys", "init"]).exit_code == 0
    (tmp_path / "outside.jsonl").symlink_to(victim)
    result = run_cli([*args, "checkpoint"], tmp_path)
    assert_one_line_error(result, "outside.jsonl is a symbolic link")
    assert victim.read_bytes() == b"precious\n"
    report = json.loads(invoke([*stores.cli_args(settings), "verify", "--json"]).stdout)
    assert report["checkpoints"] == 0


def test_a_pack_is_written_past_a_planted_partial_symlink_and_never_onto_a_symlink(
    stores,
    tmp_path: Path,
    victim: Path,  # type: ignore[no-untyped-def]
) -> None:
    settings = stores.new()
    args = _args(stores, settings, tmp_path)
    assert invoke([*args, "keys", "init"]).exit_code == 0
    assert invoke([*args, "import", str(HARBOUR)]).exit_code == 0
    pack = tmp_path / "pack.zip"
    (tmp_path / "pack.zip.partial").symlink_to(victim)
    made = invoke([*args, "pack", "--service", "Harbour Home Care", "-o", str(pack)])
    assert made.exit_code == 0, made.output
    assert victim.read_bytes() == b"precious\n"
    assert invoke(["verify-pack", str(pack)]).exit_code == 0
    dangling = tmp_path / "dangling.zip"
    dangling.symlink_to(tmp_path / "nowhere.zip")
    refused = run_cli([*args, "pack", "--service", "Harbour Home Care", "-o", str(dangling)], tmp_path)
    assert_one_line_error(refused, "dangling.zip exists (a symbolic link)")
    assert not (tmp_path / "nowhere.zip").exists()
