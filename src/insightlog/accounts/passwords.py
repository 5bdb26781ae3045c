"""Passwords: the policy the NCSC advises, and argon2id hashing.

The policy is a minimum length (12 characters by default, never fewer than 8), a generous maximum,
and a refusal of the most common passwords (``data/common-passwords.txt``) and of the account's own
name and staff id; there are no composition rules (no "one digit, one capital"), no expiry.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

from insightlog.accounts.errors import PasswordRejectedError

if TYPE_CHECKING:
    from argon2 import PasswordHasher

MIN_LENGTH = 12
FLOOR_LENGTH = 8
MAX_LENGTH = 1024


@dataclass(frozen=True)
class PasswordPolicy:
    """How long a password must be; the deny-list is always applied."""

    min_length: int = MIN_LENGTH
    max_length: int = MAX_LENGTH

    def __post_init__(self) -> None:
        if self.min_length < FLOOR_LENGTH:
            raise ValueError(f"a minimum password length below {FLOOR_LENGTH} is not allowed")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The deny-list, case-folded."""
    text = resources.files("insightlog.accounts").joinpath("data/common-passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().casefold() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def normalise(password: str) -> str:
    """NFKC, so the same characters typed on different keyboards give the same password."""
    return unicodedata.normalize("NFKC", password)


def check_password(password: str, *, policy: PasswordPolicy | None = None, personal: tuple[str, ...] = ()) -> str:
    """The normalised password if the policy accepts it, else ``PasswordRejectedError`` saying why."""
    policy = policy or PasswordPolicy()
    value = normalise(password)
    length = len(value)
    if length < policy.min_length:
        raise PasswordRejectedError(f"the password is {length} characters; it must be at least {policy.min_length}")
    if length > policy.max_length:
        raise PasswordRejectedError(f"the password is longer than {policy.max_length} characters")
    folded = value.casefold()
    if folded in common_passwords() or folded.strip() in common_passwords():
        raise PasswordRejectedError("the password is one of the most commonly used passwords; choose another")
    for word in personal:
        if word and folded == normalise(word).casefold():
            raise PasswordRejectedError("the password must not be the account's name or staff id")
    if folded.strip() == "":
        raise PasswordRejectedError("the password must not be only spaces")
    return value


@dataclass(frozen=True)
class HashParameters:
    """argon2id cost parameters; the defaults are RFC 9106's low-memory profile (argon2-cffi's)."""

    time_cost: int = 3
    memory_cost: int = 65536  # KiB
    parallelism: int = 4


# For tests only: the cheapest parameters argon2-cffi's own test profile uses.
TEST_PARAMETERS = HashParameters(time_cost=1, memory_cost=8, parallelism=1)


class Hasher:
    """argon2id hashing and verification (argon2-cffi)."""

    def __init__(self, parameters: HashParameters | None = None) -> None:
        from argon2 import PasswordHasher, Type

        p = parameters or HashParameters()
        self._hasher: PasswordHasher = PasswordHasher(
            time_cost=p.time_cost, memory_cost=p.memory_cost, parallelism=p.parallelism, type=Type.ID
        )
        # Verified against when the account does not exist, so a wrong name takes as long as a
        # wrong password.
        self._dummy = self._hasher.hash("not a password of any account")

    def hash(self, password: str) -> str:
        return self._hasher.hash(normalise(password))

    def verify(self, encoded: str | None, password: str) -> bool:
        """Whether ``password`` matches ``encoded`` (None: no account; still takes the time)."""
        from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

        try:
            return bool(self._hasher.verify(encoded or self._dummy, normalise(password))) and encoded is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, encoded: str) -> bool:
        return bool(self._hasher.check_needs_rehash(encoded))
