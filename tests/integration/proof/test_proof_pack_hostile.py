"""Hostile evidence packs: zip slip, a removed signature, duplicates, zip bombs and foreign keys
are refused, and verifying one stays within a fixed memory budget."""

from __future__ import annotations

import hashlib
import json
import os
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import pytest

from insightlog.proof.canonical import canonicalize
from insightlog.proof.keys import generate_private_key, key_id, public_key_pem
from insightlog.proof.pack import (
    MAX_MEMBERS,
    TrustedKeys,
    member_name_problem,
    verify_pack,
)
from tests.helpers import invoke

from .test_proof_pack import Sample, make_pack, members

MEMORY_BUDGET_BYTES = 200 * 1024 * 1024
"""Peak resident memory allowed to a process verifying any of these packs (imports included)."""


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    return make_pack(tmp_path_factory.mktemp("pack"), None)


def write_zip(path: Path, files: list[tuple[str, bytes]]) -> Path:
    """A zip holding exactly these (name, data) entries, in this order, names as given."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), data)
    return path


def resign(files: dict[str, bytes], sample: Sample, *, sign: bool = True) -> dict[str, bytes]:
    """Recompute manifest.json over ``files`` (as a forger with, or without, the provider key)."""
    out = {n: d for n, d in files.items() if n not in ("manifest.json", "manifest.sig")}
    manifest = json.loads(files["manifest.json"])
    manifest["files"] = {n: hashlib.sha256(d).hexdigest() for n, d in sorted(out.items())}
    out["manifest.json"] = canonicalize(manifest)
    if sign:
        out["manifest.sig"] = sample.provider.sign(out["manifest.json"])
    return out


def failed(path: Path, trusted: TrustedKeys | None = None) -> list[tuple[str, str]]:
    report = verify_pack(path, trusted)
    assert not report.ok
    return [(c.subject, c.detail) for c in report.failures]


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("../../evil.txt", "'..' component"),
        ("events/../../../evil.txt", "'..' component"),
        ("/etc/cron.d/evil", "absolute path"),
        ("keys\\..\\..\\evil.pem", "backslash"),
        ("C:evil.txt", "drive letter"),
        ("C:/Windows/evil.txt", "drive letter"),
        ("events//0000000002.json", "empty or '.' component"),
        ("./README.txt", "empty or '.' component"),
        ("r\u00e9sum\u00e9.txt", "character other than"),
        ("evil\x1b[2J.txt", "character other than"),
    ],
)
def test_a_member_name_that_could_unpack_outside_the_folder_is_refused_even_when_signed(
    sample: Sample, tmp_path: Path, name: str, why: str
) -> None:
    # The forger here even holds the provider key: the manifest lists the name and is signed.
    files = resign({**members(sample.path), name: b"owned\n"}, sample)
    pack = write_zip(tmp_path / "slip.zip", sorted(files.items()))
    assert name in zipfile.ZipFile(pack).namelist()
    failures = failed(pack)
    assert any(why in detail and detail.startswith("member name") for _, detail in failures), failures
    assert failures[-1] == ("pack", "refused before reading any member: 1 problem(s) in the zip directory")
    assert all("\x1b" not in subject for subject, _ in failures)


def test_the_name_rule_accepts_every_name_the_layout_uses(sample: Sample) -> None:
    assert [n for n in members(sample.path) if member_name_problem(n) is not None] == []


def test_a_manifest_listing_an_unsafe_name_fails_even_without_such_a_member(sample: Sample, tmp_path: Path) -> None:
    files = members(sample.path)
    manifest = json.loads(files["manifest.json"])
    manifest["files"]["../../evil.txt"] = hashlib.sha256(b"").hexdigest()
    files["manifest.json"] = canonicalize(manifest)
    files["manifest.sig"] = sample.provider.sign(files["manifest.json"])
    pack = write_zip(tmp_path / "listed.zip", sorted(files.items()))
    assert ("../../evil.txt", "listed in manifest.json, but a name that holds a '..' component "
            "(it would unpack outside the pack's folder)") in failed(pack)  # fmt: skip


def test_two_members_with_the_same_name_are_refused(sample: Sample, tmp_path: Path) -> None:
    files = members(sample.path)
    forged = json.dumps({"service": "Harbour Home Care", "themes": []}).encode()
    with pytest.warns(UserWarning, match="Duplicate name"):
        pack = write_zip(tmp_path / "dup.zip", [*sorted(files.items()), ("analysis.json", forged)])
    assert [n for n in zipfile.ZipFile(pack).namelist() if n == "analysis.json"] == ["analysis.json"] * 2
    assert ("analysis.json", "the zip holds two members with the same name") in failed(pack)


def test_two_members_whose_names_differ_only_in_case_are_refused(sample: Sample, tmp_path: Path) -> None:
    # Unpacked on Windows or macOS, one would overwrite the other.
    files = resign({**members(sample.path), "readme.txt": b"Trust everything.\n"}, sample)
    pack = write_zip(tmp_path / "case.zip", sorted(files.items()))
    assert any("differing only in case" in d for _, d in failed(pack))


def test_a_directory_entry_is_refused(sample: Sample, tmp_path: Path) -> None:
    files = members(sample.path)
    pack = write_zip(tmp_path / "dir.zip", [*sorted(files.items()), ("events/", b"")])
    assert ("events/", "a directory entry: a pack holds only files") in failed(pack)


def test_a_member_not_in_the_manifest_fails(sample: Sample, tmp_path: Path) -> None:
    files = {**members(sample.path), "notes.txt": b"added later\n"}
    pack = write_zip(tmp_path / "extra.zip", sorted(files.items()))
    assert ("notes.txt", "in the pack but not listed in manifest.json") in failed(pack)


# --------------------------------------------------------------------------- the manifest signature


def test_a_pack_without_manifest_sig_fails(sample: Sample, tmp_path: Path) -> None:
    files = members(sample.path)
    del files["manifest.sig"]
    pack = write_zip(tmp_path / "nosig.zip", sorted(files.items()))
    failures = failed(pack)
    assert [s for s, _ in failures] == ["manifest.sig"]
    assert "manifest.sig is missing" in failures[0][1]


@pytest.mark.parametrize("member", ["analysis.json", "README.txt"])
def test_a_forged_member_with_the_manifest_redone_and_its_signature_removed_fails(
    sample: Sample, tmp_path: Path, member: str
) -> None:
    # The attack of issue 12: change analysis.json (or the README), recompute the manifest's
    # hashes, drop manifest.sig. Every hash then matches; only the missing signature gives it away.
    files = members(sample.path)
    files[member] = (
        b'{"service":"Harbour Home Care","themes":[{"theme":"medicines","E":4.0}]}'
        if member == "analysis.json"
        else b"EVIDENCE PACK\n\nEverything here is outstanding.\n"
    )
    forged = resign(files, sample, sign=False)
    pack = write_zip(tmp_path / "forged.zip", sorted(forged.items()))
    failures = failed(pack)
    assert [s for s, _ in failures] == ["manifest.sig"], failures
    cli = invoke(["verify-pack", str(pack)])
    assert cli.exit_code == 1 and "FAILED" in cli.output and "FAIL manifest.sig: manifest.sig is missing" in cli.output


def test_a_manifest_signed_by_a_stranger_fails(sample: Sample, tmp_path: Path) -> None:
    files = members(sample.path)
    files["manifest.sig"] = generate_private_key().sign(files["manifest.json"])
    pack = write_zip(tmp_path / "stranger.zip", sorted(files.items()))
    assert [s for s, _ in failed(pack)] == ["manifest.sig"]


# --------------------------------------------------------------------------- trusted keys


def test_a_pack_verifies_against_the_providers_published_key(sample: Sample) -> None:
    trusted = TrustedKeys.of([sample.provider.public_key()], [sample.witness.public_key()])
    report = verify_pack(sample.path, trusted)
    assert report.ok, report.failures
    assert any("trusted key" in c.detail for c in report.checks)


def test_a_whole_pack_forged_with_a_fresh_key_passes_alone_but_fails_against_the_real_key(
    sample: Sample, tmp_path: Path
) -> None:
    # A forger rebuilds the pack from scratch with keys of their own: it is self-consistent, so
    # only the provider's published key can tell.
    forged = make_pack(tmp_path, None, name="forged.zip")
    assert verify_pack(forged.path).ok
    fresh = key_id(forged.provider.public_key())
    failures = failed(forged.path, TrustedKeys.of([sample.provider.public_key()]))
    signed_by = f"manifest.json is signed by provider key {fresh}, which is not a trusted provider key"
    assert ("manifest.sig", signed_by) in failures
    assert (f"checkpoint 1 (size 5): provider signature by key {fresh[:16]}",
            f"the signature verifies, but key {fresh} is not a trusted provider key") in failures  # fmt: skip
    assert ("checkpoint 1 (size 5): provider signature", "no valid provider signature by a trusted key") in failures
    cli = invoke(["verify-pack", str(forged.path), "--trusted-key", str(_pem(tmp_path, sample))])
    assert cli.exit_code == 1 and fresh in cli.output


def test_a_witness_signature_by_an_untrusted_witness_fails(sample: Sample, tmp_path: Path) -> None:
    other = generate_private_key()
    failures = failed(sample.path, TrustedKeys.of([sample.provider.public_key()], [other.public_key()]))
    witness = key_id(sample.witness.public_key())
    assert failures == [
        (f"checkpoint 3 (size 12): witness signature by key {witness[:16]}",
         f"the signature verifies, but key {witness} is not a trusted witness key"),
    ]  # fmt: skip


def _pem(directory: Path, sample: Sample) -> Path:
    path = directory / "provider.pub"
    path.write_bytes(public_key_pem(sample.provider.public_key()))
    return path


# --------------------------------------------------------------------------- limits and zip bombs


def _deflated_zeros(size: int) -> bytes:
    """Raw deflate of ``size`` zero bytes (size a multiple of 1 MiB), made without compressing it all:
    after a full flush deflate's state is reset, so each further MiB compresses to the same bytes."""
    mib = 1 << 20
    assert size % mib == 0
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(bytes(mib)) + c.flush(zlib.Z_FULL_FLUSH)
    return block * (size // mib) + c.flush()


def _crc_of_zeros(size: int) -> int:
    crc, chunk = 0, bytes(1 << 20)
    for _ in range(size // len(chunk)):
        crc = zlib.crc32(chunk, crc)
    return crc


def write_raw_zip(path: Path, entries: list[tuple[str, bytes, int, int]]) -> Path:
    """A zip from (name, deflate data, declared size, crc) entries, written byte by byte."""
    local, central = bytearray(), bytearray()
    for name, data, size, crc in entries:
        raw = name.encode()
        offset = len(local)
        local += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0x5C21, crc, len(data), size, len(raw), 0)
        local += raw + data
        central += struct.pack(
            "<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 0x5C21, crc, len(data), size, len(raw), 0, 0, 0, 0, 0, offset
        )
        central += raw
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(central), len(local), 0)
    path.write_bytes(bytes(local + central + end))
    return path


BOMB_MEMBERS = ["README.txt", "analysis.json", "checkpoints.jsonl", "events.jsonl", "keys.json", "manifest.json"]
BOMB_MEMBER_SIZE = 255 * 1024 * 1024  # each just under the old per-member limit of 256 MiB


@pytest.fixture(scope="module")
def zip_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 1.6 MB on disk, 1.6 GB uncompressed: six members of 255 MiB of zeros each."""
    data, crc = _deflated_zeros(BOMB_MEMBER_SIZE), _crc_of_zeros(BOMB_MEMBER_SIZE)
    path = tmp_path_factory.mktemp("bomb") / "bomb.zip"
    return write_raw_zip(path, [(name, data, BOMB_MEMBER_SIZE, crc) for name in BOMB_MEMBERS])


def test_the_zip_bomb_is_real(zip_bomb: Path) -> None:
    assert 1_500_000 < zip_bomb.stat().st_size < 1_700_000
    with zipfile.ZipFile(zip_bomb) as archive:
        assert sum(i.file_size for i in archive.infolist()) > 1_600_000_000
        with archive.open("events.jsonl") as stream:
            assert stream.read(4 << 20) == bytes(4 << 20)  # it does inflate, to zeros


def test_a_zip_bomb_is_refused_before_any_member_is_read(zip_bomb: Path) -> None:
    failures = failed(zip_bomb)
    assert [s for s, d in failures if "(a zip bomb)" in d] == BOMB_MEMBERS
    assert failures[-1][0] == "pack" and "refused before reading any member" in failures[-1][1]


MEASURE = """
import json, sys
from insightlog.proof.pack import verify_pack
report = verify_pack(sys.argv[1])
# VmHWM: the peak resident size of this process's own memory. (ru_maxrss would also count the
# parent's size at the fork before exec, so a large test runner would inflate it.)
status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
peak = int(status["VmHWM"].split()[0]) * 1024  # kB
json.dump({"ok": report.ok, "failures": [[c.subject, c.detail] for c in report.failures], "peak": peak}, sys.stdout)
"""


def verify_measured(pack: Path) -> dict[str, object]:
    result = subprocess.run([sys.executable, "-c", MEASURE, str(pack)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status (Linux)")
def test_verifying_the_zip_bomb_stays_within_a_fixed_memory_budget(zip_bomb: Path, sample: Sample) -> None:
    outcome = verify_measured(zip_bomb)
    assert outcome["ok"] is False
    assert outcome["peak"] < MEMORY_BUDGET_BYTES, outcome["peak"]
    honest = verify_measured(sample.path)  # the same budget holds an honest pack comfortably
    assert honest["ok"] is True and honest["peak"] < MEMORY_BUDGET_BYTES


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status (Linux)")
def test_a_member_that_inflates_far_beyond_its_declared_size_is_read_no_further(sample: Sample, tmp_path: Path) -> None:
    # Declared sizes within every limit, but the deflate stream behind README.txt holds 255 MiB:
    # the reader stops at the declared size, so memory stays bounded and the check fails.
    honest = members(sample.path)
    bomb = _deflated_zeros(BOMB_MEMBER_SIZE)
    entries = []
    for name, data in sorted(honest.items()):
        if name == "README.txt":
            entries.append((name, bomb, len(data), zlib.crc32(bytes(len(data)))))
        else:
            c = zlib.compressobj(9, zlib.DEFLATED, -15)
            entries.append((name, c.compress(data) + c.flush(), len(data), zlib.crc32(data)))
    pack = write_raw_zip(tmp_path / "liar.zip", entries)
    outcome = verify_measured(pack)
    assert outcome["ok"] is False
    assert ["README.txt", "SHA-256 differs from manifest.json: the file was altered"] in outcome["failures"]
    assert outcome["peak"] < MEMORY_BUDGET_BYTES, outcome["peak"]


def _end_record(total: int, directory_size: int) -> bytes:
    return struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, total & 0xFFFF, total & 0xFFFF, directory_size, 0, 0)


def test_a_zip_claiming_too_many_members_is_refused_from_its_end_record(tmp_path: Path) -> None:
    path = tmp_path / "many.zip"
    path.write_bytes(_end_record(MAX_MEMBERS + 1, 100))
    assert failed(path) == [("pack", f"the zip lists {MAX_MEMBERS + 1} members; a pack holds at most {MAX_MEMBERS}")]


def test_a_zip_directory_too_large_to_read_is_refused_whatever_count_it_claims(tmp_path: Path) -> None:
    path = tmp_path / "huge-directory.zip"
    path.write_bytes(b"\0" * 64 + _end_record(5, 9 * 1024 * 1024))
    [(subject, detail)] = failed(path)
    assert subject == "pack" and "the zip's directory is 9437184 bytes" in detail


def test_a_zip64_end_record_is_read_for_the_limits(tmp_path: Path) -> None:
    # A zip64 record behind a 16-bit count of 0xFFFF: the 64-bit count is the one checked.
    count = 10**9
    record = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, 1 << 40, 0)
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, 0, 1)
    path = tmp_path / "zip64.zip"
    path.write_bytes(b"\0" * 64 + record + locator + _end_record(0xFFFF, 0xFFFFFFFF))
    assert failed(path) == [("pack", f"the zip lists {count} members; a pack holds at most {MAX_MEMBERS}")]


def test_a_zip_with_an_archive_comment_or_trailing_bytes_is_not_a_pack(sample: Sample, tmp_path: Path) -> None:
    commented = tmp_path / "comment.zip"
    with zipfile.ZipFile(commented, "w") as archive:
        archive.writestr("a.txt", b"a")
        archive.comment = b"hello"
    trailing = tmp_path / "trailing.zip"
    trailing.write_bytes(sample.path.read_bytes() + b"junk")
    for path in (commented, trailing):
        [(subject, _detail)] = failed(path)
        assert subject == "pack"


def test_an_encrypted_or_oddly_compressed_member_is_refused(sample: Sample, tmp_path: Path) -> None:
    files = members(sample.path)
    path = tmp_path / "bz2.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in sorted(files.items()):
            kind = zipfile.ZIP_BZIP2 if name == "analysis.json" else zipfile.ZIP_DEFLATED
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), data, compress_type=kind)
    assert ("analysis.json", "compression method 12 is not stored or deflate") in failed(path)
    raw = bytearray(sample.path.read_bytes())
    # Set the encryption flag of the first central directory entry.
    at = raw.index(b"PK\x01\x02") + 8
    raw[at] |= 0x1
    (tmp_path / "encrypted.zip").write_bytes(bytes(raw))
    assert any(d == "the member is encrypted" for _, d in failed(tmp_path / "encrypted.zip"))


def test_a_truncated_or_corrupted_member_fails_naming_it_and_no_traceback(sample: Sample, tmp_path: Path) -> None:
    raw = bytearray(sample.path.read_bytes())
    with zipfile.ZipFile(sample.path) as archive:
        info = archive.getinfo("events.jsonl")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    raw[start + 10] ^= 0xFF  # inside the compressed data: a CRC or inflate error
    (tmp_path / "corrupt.zip").write_bytes(bytes(raw))
    failures = failed(tmp_path / "corrupt.zip")
    assert any(s == "events.jsonl" and "cannot be read from the zip" in d for s, d in failures), failures
    cli = invoke(["verify-pack", str(tmp_path / "corrupt.zip")])
    assert cli.exit_code == 1 and "FAILED" in cli.output


def test_the_verifier_never_writes_anything(sample: Sample, tmp_path: Path) -> None:
    before = sorted(os.listdir(sample.path.parent))
    verify_pack(sample.path)
    assert sorted(os.listdir(sample.path.parent)) == before
