"""Ed25519 signing keys: create, write, load, and identify them.

The private key lives only in a PEM (PKCS#8) file, optionally encrypted with a passphrase;
nothing here returns private key material in a structure meant for storage. The public key is a
PEM SubjectPublicKeyInfo file. Both are written with mode 0600 (missing directories 0700) whatever
the umask, through ``insightlog.safefile``: never over an existing file and never through a symlink. A key's id is the lowercase hex SHA-256 of its raw
32-byte public key (64 characters); ``short_key_id`` gives the first 16 for display.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from insightlog import safefile
from insightlog.errors import InsightlogError

PROVIDER = "provider"
WITNESS = "witness"
ROLES = (PROVIDER, WITNESS)
MAX_KEY_FILE_BYTES = 64 * 1024


class KeyFileError(InsightlogError, ValueError):
    """Raised when a key file is missing, unreadable, of the wrong type or wrongly protected."""


@dataclass(frozen=True, slots=True)
class PublicKeyInfo:
    """A public key as it may be stored or shipped: its id and its PEM text. Never a private key."""

    key_id: str
    public_key_pem: str

    @property
    def short_id(self) -> str:
        return short_key_id(self.key_id)

    def public_key(self) -> Ed25519PublicKey:
        return public_key_from_pem(self.public_key_pem.encode("ascii"))


def generate_private_key() -> Ed25519PrivateKey:
    """A fresh Ed25519 private key."""
    return Ed25519PrivateKey.generate()


def raw_public_key(public_key: Ed25519PublicKey) -> bytes:
    """The 32-byte raw encoding of an Ed25519 public key (RFC 8032)."""
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_key: Ed25519PublicKey) -> str:
    """Lowercase hex SHA-256 of the raw 32-byte public key."""
    return hashlib.sha256(raw_public_key(public_key)).hexdigest()


def short_key_id(full_key_id: str) -> str:
    """The first 16 hex characters of a key id, for display and file names."""
    return full_key_id[:16]


def public_key_pem(public_key: Ed25519PublicKey) -> bytes:
    """The PEM SubjectPublicKeyInfo encoding of a public key."""
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def public_key_info(public_key: Ed25519PublicKey) -> PublicKeyInfo:
    """The storable description (id and PEM) of a public key."""
    return PublicKeyInfo(key_id(public_key), public_key_pem(public_key).decode("ascii"))


def public_key_from_pem(pem: bytes) -> Ed25519PublicKey:
    """Parse a PEM SubjectPublicKeyInfo holding an Ed25519 key."""
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise KeyFileError(f"not a PEM public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(f"public key is {type(key).__name__}, not Ed25519")
    return key


def private_key_to_pem(private_key: Ed25519PrivateKey, passphrase: bytes | None = None) -> bytes:
    """PEM PKCS#8 encoding of a private key, encrypted when a passphrase is given."""
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    )
    return private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


KEY_FILE_MODE = 0o600
KEY_DIRECTORY_MODE = 0o700


def write_private_key(
    path: str | os.PathLike[str], private_key: Ed25519PrivateKey, passphrase: bytes | None = None
) -> None:
    """Write a private key file (PEM PKCS#8), mode exactly 0600; never over an existing file or link."""
    _write_key_file(path, private_key_to_pem(private_key, passphrase))


def write_public_key(path: str | os.PathLike[str], public_key: Ed25519PublicKey) -> None:
    """Write a public key file (PEM SubjectPublicKeyInfo), mode 0600; never over an existing one."""
    _write_key_file(path, public_key_pem(public_key))


def _write_key_file(path: str | os.PathLike[str], data: bytes) -> None:
    try:
        safefile.write_bytes(path, data, mode=KEY_FILE_MODE)
    except safefile.OutputFileError as exc:
        raise KeyFileError(f"{exc}; keys are never overwritten" if os.path.lexists(path) else str(exc)) from None


def create_key_files(
    private_path: str | os.PathLike[str],
    public_path: str | os.PathLike[str],
    passphrase: bytes | None = None,
) -> PublicKeyInfo:
    """Generate a key pair, write both files, and return the public key's id and PEM.

    Missing directories are made with mode 0700 and both files get mode 0600, whatever the
    umask. If either path already holds anything (a symlink included) nothing is written; if the
    public key cannot be written the private key just written is removed again.
    """
    for path in (private_path, public_path):
        if os.path.lexists(path):
            kind = " (a symbolic link)" if os.path.islink(path) else ""
            raise KeyFileError(f"{os.fspath(path)} already exists{kind}; keys are never overwritten")
    try:
        for path in (private_path, public_path):
            safefile.private_directory(Path(path).parent)
    except safefile.OutputFileError as exc:
        raise KeyFileError(str(exc)) from None
    private_key = generate_private_key()
    write_private_key(private_path, private_key, passphrase)
    public_key = private_key.public_key()
    try:
        write_public_key(public_path, public_key)
    except KeyFileError:
        os.unlink(private_path)
        raise
    return public_key_info(public_key)


def load_private_key(path: str | os.PathLike[str], passphrase: bytes | None = None) -> Ed25519PrivateKey:
    """Load an Ed25519 private key from a PEM PKCS#8 file."""
    data = _read_key_file(path, "private key")
    try:
        key = serialization.load_pem_private_key(data, password=passphrase or None)
    except TypeError as exc:  # passphrase missing or given for an unencrypted key
        raise KeyFileError(f"{os.fspath(path)}: {exc}") from None
    except (ValueError, UnsupportedAlgorithm):
        raise KeyFileError(
            f"{os.fspath(path)} is not a readable PEM private key (or the passphrase is wrong)"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{os.fspath(path)} holds a {type(key).__name__}, not an Ed25519 key")
    return key


def load_public_key(path: str | os.PathLike[str]) -> Ed25519PublicKey:
    """Load an Ed25519 public key from a PEM SubjectPublicKeyInfo file."""
    data = _read_key_file(path, "public key")
    try:
        return public_key_from_pem(data)
    except KeyFileError as exc:
        raise KeyFileError(f"{os.fspath(path)}: {exc}") from None


def _read_key_file(path: str | os.PathLike[str], what: str) -> bytes:
    # A key file is a few hundred bytes; a bounded read keeps a wrong path (a device, a log file)
    # from filling memory.
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_KEY_FILE_BYTES + 1)
    except OSError as exc:
        raise KeyFileError(f"cannot read {what} {os.fspath(path)}: {exc.strerror}") from None
    if len(data) > MAX_KEY_FILE_BYTES:
        raise KeyFileError(f"{os.fspath(path)} is larger than {MAX_KEY_FILE_BYTES} bytes: not a key file")
    return data


def private_key_file_is_private(path: str | os.PathLike[str]) -> bool:
    """True when neither group nor others may read or write the key file (POSIX mode bits)."""
    return os.stat(path).st_mode & 0o077 == 0
