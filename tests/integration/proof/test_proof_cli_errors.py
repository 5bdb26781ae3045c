"""Bad key and checkpoint files given to the proof commands end in one line, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.helpers import HARBOUR, invoke

CLI = "import sys; from insightlog.cli.main import cli; cli(prog_name='insightlog')"


def run_cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", CLI, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def assert_one_line_error(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for text in expected:
        assert text in lines[0], lines[0]


def _rsa_public_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


@pytest.fixture
def signed_store(stores, tmp_path: Path) -> list[str]:  # type: ignore[no-untyped-def]
    """A store with the worked example and one checkpoint; the CLI arguments that reach it."""
    settings = stores.new()
    args = [*stores.cli_args(settings), "--key", str(tmp_path / "provider.key"),
            "--checkpoint-file", str(tmp_path / "outside.jsonl")]  # fmt: skip
    assert invoke([*args, "keys", "init"]).exit_code == 0
    assert invoke([*args, "import", str(HARBOUR)]).exit_code == 0
    return args


@pytest.mark.parametrize(
    "content",
    [b"not a key\n", b"", b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "rsa"],
    ids=["text", "empty", "bad-base64", "rsa-key"],
)
def test_verify_with_a_trusted_key_that_is_not_an_ed25519_public_key_says_so_in_one_line(
    signed_store: list[str], tmp_path: Path, content: bytes | str
) -> None:
    bad = tmp_path / "bad.pub"
    bad.write_bytes(_rsa_public_pem() if content == "rsa" else content)  # type: ignore[arg-type]
    result = run_cli([*signed_store, "verify", "--trusted-key", str(bad)], tmp_path)
    assert_one_line_error(result, str(bad))


def test_verify_with_a_private_key_given_as_the_trusted_key_says_so_in_one_line(
    signed_store: list[str], tmp_path: Path
) -> None:
    result = run_cli([*signed_store, "verify", "--trusted-key", str(tmp_path / "provider.key")], tmp_path)
    assert_one_line_error(result, "provider.key", "not a PEM public key")


@pytest.mark.parametrize("content", [b"garbage\n", b"", "public"], ids=["text", "empty", "public-key"])
def test_checkpoint_with_a_bad_private_key_file_says_so_in_one_line(
    signed_store: list[str], tmp_path: Path, content: bytes | str
) -> None:
    bad = tmp_path / "bad.key"
    bad.write_bytes((tmp_path / "provider.key.pub").read_bytes() if content == "public" else content)  # type: ignore[arg-type]
    args = [a if a != str(tmp_path / "provider.key") else str(bad) for a in signed_store]
    result = run_cli([*args, "checkpoint"], tmp_path)
    assert_one_line_error(result, str(bad), "not a readable PEM private key")


def test_verify_with_a_checkpoint_file_that_is_not_json_lines_says_so_in_one_line(
    signed_store: list[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"v": 1}\nnot json\n')
    result = run_cli([*signed_store, "verify", "--checkpoint", str(bad)], tmp_path)
    assert_one_line_error(result, "line 1")


def test_a_key_file_far_larger_than_any_key_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    from insightlog.errors import InsightlogError
    from insightlog.proof.keys import KeyFileError, load_public_key

    big = tmp_path / "big.pub"
    big.write_bytes(b"A" * (1024 * 1024))
    with pytest.raises(KeyFileError, match="larger than") as caught:
        load_public_key(big)
    assert isinstance(caught.value, InsightlogError)


def test_every_error_class_of_the_proof_package_derives_from_the_one_error_root() -> None:
    import inspect

    import insightlog.proof.canonical
    import insightlog.proof.checkpoint
    import insightlog.proof.keys
    import insightlog.proof.merkle
    import insightlog.proof.pack.layout
    import insightlog.proof.tsa
    from insightlog.errors import InsightlogError

    modules = [insightlog.proof.canonical, insightlog.proof.checkpoint, insightlog.proof.keys,
               insightlog.proof.merkle, insightlog.proof.pack.layout, insightlog.proof.tsa]  # fmt: skip
    errors = [
        cls
        for module in modules
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, Exception) and cls.__module__ == module.__name__
    ]
    assert len(errors) >= 7
    assert [e.__name__ for e in errors if not issubclass(e, InsightlogError)] == []
