"""Output files are written without following symlinks and never over a file unless asked."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from insightlog.errors import InsightlogError
from insightlog.safefile import (
    OutputFileError,
    append_bytes,
    check_appendable,
    creating,
    private_directory,
    private_workdir,
    publish,
    write_bytes,
    write_with,
)


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    """A file elsewhere that an attacker would like overwritten."""
    directory = tmp_path / "elsewhere"
    directory.mkdir()
    path = directory / "victim.txt"
    path.write_bytes(b"precious\n")
    return path


@pytest.fixture
def umask_000() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_a_new_file_is_written_whole_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "out" / "export.jsonl"
    target.parent.mkdir()
    write_bytes(target, b"line\n")
    assert target.read_bytes() == b"line\n"
    assert os.listdir(target.parent) == ["export.jsonl"]


def test_a_planted_partial_symlink_is_neither_followed_nor_used(tmp_path: Path, victim: Path) -> None:
    # The attack of issue 12: F.partial -> victim, then the command writes F.
    target = tmp_path / "export.jsonl"
    (tmp_path / "export.jsonl.partial").symlink_to(victim)
    (tmp_path / ".export.jsonl.tmp").symlink_to(victim)
    write_bytes(target, b"new content\n")
    assert victim.read_bytes() == b"precious\n"
    assert target.read_bytes() == b"new content\n" and not target.is_symlink()
    assert sorted(os.listdir(tmp_path)) == [".export.jsonl.tmp", "elsewhere", "export.jsonl", "export.jsonl.partial"]


@pytest.mark.parametrize("kind", ["file", "symlink", "dangling symlink"])
def test_an_existing_target_is_refused_unless_overwrite_is_asked_for(tmp_path: Path, victim: Path, kind: str) -> None:
    target = tmp_path / "report.html"
    if kind == "file":
        target.write_bytes(b"old\n")
    elif kind == "symlink":
        target.symlink_to(victim)
    else:
        target.symlink_to(tmp_path / "nowhere")
    with pytest.raises(OutputFileError, match=r"report.html exists.*not overwriting") as caught:
        write_bytes(target, b"new\n")
    assert isinstance(caught.value, InsightlogError) and "\n" not in str(caught.value)
    assert victim.read_bytes() == b"precious\n"
    assert not (tmp_path / "nowhere").exists()
    if kind == "file":
        assert target.read_bytes() == b"old\n"
    assert sorted(os.listdir(tmp_path)) == ["elsewhere", "report.html"]


def test_overwrite_replaces_a_symlink_at_the_target_instead_of_writing_through_it(tmp_path: Path, victim: Path) -> None:
    target = tmp_path / "report.html"
    target.symlink_to(victim)
    write_bytes(target, b"new\n", overwrite=True)
    assert victim.read_bytes() == b"precious\n"
    assert not target.is_symlink() and target.read_bytes() == b"new\n"


def test_overwrite_replaces_a_file_in_one_step(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    target.write_bytes(b"old\n")
    with open(target, "rb") as reader:
        write_bytes(target, b"new\n", overwrite=True)
        assert reader.read() == b"old\n"  # a reader of the old file sees all of it
    assert target.read_bytes() == b"new\n"


def test_a_failing_writer_leaves_nothing_behind(tmp_path: Path) -> None:
    target = tmp_path / "pack.zip"

    def half(fh: object) -> None:
        fh.write(b"half")  # type: ignore[attr-defined]
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        write_with(target, half)
    assert os.listdir(tmp_path) == []


def test_write_with_returns_what_the_writer_returns(tmp_path: Path) -> None:
    assert write_with(tmp_path / "x", lambda fh: fh.write(b"abc")) == 3


def test_a_mode_is_exact_whatever_the_umask(tmp_path: Path, umask_000: None) -> None:
    write_bytes(tmp_path / "key", b"secret", mode=0o600)
    write_bytes(tmp_path / "plain", b"text")
    assert mode_of(tmp_path / "key") == 0o600
    assert mode_of(tmp_path / "plain") == 0o666  # no mode: the umask decides, as for any new file


def test_a_missing_directory_or_a_directory_target_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(OutputFileError, match="no directory"):
        write_bytes(tmp_path / "missing" / "x", b"")
    (tmp_path / "d").mkdir()
    with pytest.raises(OutputFileError, match="exists \\(a directory\\)"):
        write_bytes(tmp_path / "d", b"")
    with pytest.raises(OutputFileError, match="is a directory"):
        write_bytes(tmp_path / "d", b"", overwrite=True)
    with pytest.raises(OutputFileError, match="not a file name"), creating(tmp_path / ".."):
        pass


def test_appending_creates_then_appends_and_syncs(tmp_path: Path) -> None:
    target = tmp_path / "checkpoints.jsonl"
    append_bytes(target, b"one\n")
    append_bytes(target, b"two\n")
    assert target.read_bytes() == b"one\ntwo\n"


def test_appending_through_a_symlink_is_refused(tmp_path: Path, victim: Path) -> None:
    target = tmp_path / "checkpoints.jsonl"
    target.symlink_to(victim)
    with pytest.raises(OutputFileError, match="symbolic link"):
        check_appendable(target)
    with pytest.raises(OutputFileError, match="symbolic link"):
        append_bytes(target, b"forged\n")
    assert victim.read_bytes() == b"precious\n"


def test_appending_to_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "checkpoints.jsonl"
    os.mkfifo(fifo)
    with pytest.raises(OutputFileError, match="not a regular file"):
        check_appendable(fifo)
    with pytest.raises(OutputFileError, match="not a regular file"):
        append_bytes(fifo, b"x\n")


def test_private_directories_are_0700_whatever_the_umask_and_existing_ones_are_left_alone(
    tmp_path: Path, umask_000: None
) -> None:
    existing = tmp_path / "existing"
    existing.mkdir(mode=0o755)
    os.chmod(existing, 0o755)
    private_directory(existing / "keys" / "inner")
    assert mode_of(existing) == 0o755
    assert mode_of(existing / "keys") == 0o700 and mode_of(existing / "keys" / "inner") == 0o700
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(OutputFileError, match="not a directory"):
        private_directory(tmp_path / "file" / "keys")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    with pytest.raises(OutputFileError, match="not a directory"):
        private_directory(tmp_path / "dangling")


def test_a_tool_writes_in_a_private_workdir_and_its_file_is_published_safely(tmp_path: Path, victim: Path) -> None:
    target = tmp_path / "backup.sqlite"
    with private_workdir(target) as work:
        assert mode_of(work) == 0o700 and work.parent == tmp_path
        (work / "backup.sqlite").write_bytes(b"pages")
        publish(work / "backup.sqlite", target)
    assert target.read_bytes() == b"pages"
    assert sorted(os.listdir(tmp_path)) == ["backup.sqlite", "elsewhere"]
    other = tmp_path / "other.sqlite"
    other.symlink_to(victim)
    with private_workdir(other) as work:
        (work / "x").write_bytes(b"pages")
        with pytest.raises(OutputFileError, match="symbolic link"):
            publish(work / "x", other)
        publish(work / "x", other, overwrite=True)
    assert victim.read_bytes() == b"precious\n" and other.read_bytes() == b"pages" and not other.is_symlink()
