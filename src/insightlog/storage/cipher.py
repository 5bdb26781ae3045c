"""Encryption at rest of the stored event state (the payload and envelope of every event).

``INSIGHTLOG_CIPHER_KEY`` (base64 of 16, 24 or 32 random bytes; ``insightlog db new-key`` makes
one) turns on the event store's AES-GCM cipher. Topic, aggregate id, version and notification id
stay in clear; everything in the ``state`` column (and in snapshots) is encrypted.

The cipher is always installed, so a store opened without its key, or with the wrong one, fails
with a clear message instead of undecodable bytes.
"""

from __future__ import annotations

import binascii
from typing import TYPE_CHECKING

from eventsourcing.persistence import Cipher

from insightlog.errors import LedgerError

if TYPE_CHECKING:
    from eventsourcing.cipher import AESCipher
    from eventsourcing.utils import Environment

CIPHER_TOPIC = "insightlog.storage.cipher:StoreCipher"
KEY_BYTES = 32


class CipherKeyError(LedgerError):
    """Raised when the cipher key is malformed, missing, or not the store's key."""


def new_key() -> str:
    """A fresh AES-256 key, base64 (for ``INSIGHTLOG_CIPHER_KEY``)."""
    from eventsourcing.cipher import AESCipher

    return AESCipher.create_key(KEY_BYTES)


def looks_plain(state: bytes) -> bool:
    """Whether stored state is unencrypted JSON (an object), as every event state is."""
    return state[:2] == b'{"' and state[-1:] == b"}"


class StoreCipher(Cipher):
    """AES-GCM when a key is set, else a pass-through that recognises encrypted state."""

    def __init__(self, environment: Environment) -> None:
        self.aes: AESCipher | None = None
        # The key of the settings only: the library would prefer INSIGHTLOG_CIPHER_KEY from the
        # process environment, so a store opened with explicit settings could get another key.
        key = dict.get(environment, "CIPHER_KEY") or ""
        if key:
            from eventsourcing.cipher import AESCipher  # pycryptodome: only when a key is set
            from eventsourcing.utils import Environment as KeyOnly

            try:
                self.aes = AESCipher(KeyOnly(env={"CIPHER_KEY": key}))
            except (ValueError, binascii.Error):
                raise CipherKeyError(
                    "INSIGHTLOG_CIPHER_KEY is not base64 of 16, 24 or 32 bytes (make one with `insightlog db new-key`)"
                ) from None

    def encrypt(self, plaintext: bytes) -> bytes:
        return self.aes.encrypt(plaintext) if self.aes else plaintext

    def decrypt(self, ciphertext: bytes) -> bytes:
        if self.aes is None:
            if looks_plain(ciphertext):
                return ciphertext
            raise CipherKeyError("this store's events are encrypted; set INSIGHTLOG_CIPHER_KEY to the store's key")
        try:
            return self.aes.decrypt(ciphertext)
        except ValueError:
            if looks_plain(ciphertext):
                raise CipherKeyError(
                    "this store's events are not encrypted but INSIGHTLOG_CIPHER_KEY is set; "
                    "unset it (a store is encrypted from its first event or not at all)"
                ) from None
            raise CipherKeyError("INSIGHTLOG_CIPHER_KEY does not decrypt this store's events (wrong key?)") from None
