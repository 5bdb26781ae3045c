"""Sign-in throttling and lock-out, as pure rules on an account's count of consecutive failures.

After ``free`` failures each further attempt must wait, twice as long each time (``base`` seconds,
then 2x, 4x... up to ``cap``); after ``lock_after`` failures the account is locked until an
administrator unlocks it (``insightlog users reset``). A success sets the count back to zero.
The NCSC advises throttling before lock-out and allowing about ten attempts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class ThrottlePolicy:
    free: int = 3
    lock_after: int = 10
    base: timedelta = timedelta(seconds=2)
    cap: timedelta = timedelta(minutes=15)

    def wait_after(self, failures: int) -> timedelta:
        """How long after the latest failure the next attempt must wait."""
        if failures < self.free:
            return timedelta(0)
        wait: timedelta = min(self.base * (2 ** (failures - self.free)), self.cap)
        return wait

    def retry_at(self, failures: int, last_failed_at: datetime | None) -> datetime | None:
        """When the next attempt is allowed (None: now)."""
        wait = self.wait_after(failures)
        if not wait or last_failed_at is None:
            return None
        return last_failed_at + wait

    def locks(self, failures: int) -> bool:
        return failures >= self.lock_after
