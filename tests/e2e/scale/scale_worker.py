"""A writer process for the concurrency tests: records M live events into one store, then reports.

Run as a script: ``python scale_worker.py SETTINGS_JSON WORKER M SERVICE_PATTERN READY_DIR``.
It opens the store, touches ``READY_DIR/ready-WORKER``, waits for ``READY_DIR/go``, records its
events and prints one JSON object: each stored event id with its receipt position, the
optimistic-concurrency conflicts met inside the ledger's retries, the ConflictErrors it was
given (each resubmitted, as a user would), any other error, and the time taken.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from eventsourcing.persistence import IntegrityError

from insightlog.application.ledger import Ledger, open_ledger
from insightlog.errors import ConflictError
from insightlog.storage.settings import StoreSettings

RESUBMISSIONS = 10


def event(worker: int, i: int, service: str) -> dict:
    return {
        "event_id": f"w{worker}-{i:05d}",
        "service": service,
        "theme": "medicines.mar_charts",
        "location": None,
        "team": "north",
        "shift": None,
        "kind": "SpotCheckRecorded",
        "actor_role": "deputy_manager",
        "actor_id": f"DM-{worker}",
        "record": None,
        "payload": {
            "evidence_score": 3,
            "evidence_category": "observation",
            "source_type": "spot_check",
            "summary": f"check {i} by worker {worker}",
        },
    }


def main() -> None:
    settings = StoreSettings(**json.loads(sys.argv[1]))
    worker = int(sys.argv[2])
    count = int(sys.argv[3])
    service = sys.argv[4].format(worker=worker)
    ready = Path(sys.argv[5])
    stats = {"conflicts": 0, "streak": 0, "most_retries": 0}
    original = Ledger._append_once

    def counting(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        try:
            result = original(self, *args, **kwargs)
        except IntegrityError:
            stats["conflicts"] += 1
            stats["streak"] += 1
            stats["most_retries"] = max(stats["most_retries"], stats["streak"])
            raise
        stats["streak"] = 0
        return result

    Ledger._append_once = counting  # type: ignore[method-assign]
    ledger = open_ledger(settings)
    (ready / f"ready-{worker}").touch()
    while not (ready / "go").exists():
        time.sleep(0.005)
    stored: list[tuple[str, int]] = []
    gave_up: list[str] = []
    errors: list[str] = []
    conflict_errors = 0
    started = time.monotonic()
    for i in range(count):
        obj = event(worker, i, service)
        for _ in range(RESUBMISSIONS):
            stats["streak"] = 0
            try:
                result = ledger.record(obj)
            except ConflictError:
                conflict_errors += 1
                continue
            except Exception as exc:  # noqa: BLE001 - reported to the test
                errors.append(f"{obj['event_id']}: {type(exc).__name__}: {exc}")
                break
            stored.extend((r.event_id, r.position) for r in result.receipts)
            break
        else:
            gave_up.append(obj["event_id"])
    seconds = time.monotonic() - started
    ledger.close()
    print(
        json.dumps(
            {
                "worker": worker,
                "stored": stored,
                "gave_up": gave_up,
                "errors": errors,
                "conflicts": stats["conflicts"],
                "most_retries": stats["most_retries"],
                "conflict_errors": conflict_errors,
                "seconds": seconds,
            }
        )
    )


if __name__ == "__main__":
    main()
