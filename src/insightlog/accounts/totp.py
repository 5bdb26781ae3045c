"""The second factor: time-based one-time passwords (RFC 6238, 30-second steps, 6 digits).

A code is accepted for the current step or the one before or after (clock drift), and only for a
step later than the last one accepted for the account, so a code cannot be used twice.
"""

from __future__ import annotations

import re
from datetime import datetime

STEP_SECONDS = 30
DIGITS = 6
_CODE = re.compile(r"^[0-9]{6}$")


def new_secret() -> str:
    import pyotp

    return str(pyotp.random_base32(length=32))


def provisioning_uri(secret: str, account: str, issuer: str = "insightlog") -> str:
    import pyotp

    return str(
        pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(name=account, issuer_name=issuer)
    )


def code_at(secret: str, when: datetime) -> str:
    import pyotp

    return str(pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).at(when))


def step_of(when: datetime) -> int:
    return int(when.timestamp()) // STEP_SECONDS


def accepted_step(secret: str, code: str, when: datetime, last_step: int | None) -> int | None:
    """The time step ``code`` belongs to, if it is valid now and newer than ``last_step``; else None."""
    import hmac

    code = re.sub(r"\s+", "", code or "")
    if not _CODE.match(code):
        return None
    now = step_of(when)
    for step in (now - 1, now, now + 1):
        if last_step is not None and step <= last_step:
            continue
        import pyotp

        expected = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).generate_otp(step)
        if hmac.compare_digest(str(expected), code):
            return step
    return None


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing into an authenticator app."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
