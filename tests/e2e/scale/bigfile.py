"""A large, valid interchange file: the worked example cloned into many services, interleaved.

Line i of every clone carries the example's line i timestamps, so the file stays in recorded
order; ids and the references between them (``amends``, ``supersedes``) are renamed per clone.
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
HARBOUR = ROOT / "examples" / "harbour_home_care.jsonl"


def clone(row: dict, n: int) -> dict:
    prefix = f"C{n:04d}-"
    out = dict(row, event_id=prefix + row["event_id"], service=f"{row['service']} {n:04d}")
    payload = dict(row["payload"])
    for ref in ("amends", "supersedes"):
        if isinstance(payload.get(ref), str):
            payload[ref] = prefix + payload[ref]
    out["payload"] = payload
    return out


def write_big_file(path: Path, clones: int) -> int:
    """Write ``clones`` interleaved copies of the worked example; returns the number of lines."""
    rows = [json.loads(line) for line in HARBOUR.read_text().splitlines() if line.strip()]
    count = 0
    with path.open("w") as fh:
        for row in rows:
            for n in range(clones):
                fh.write(json.dumps(clone(row, n)) + "\n")
                count += 1
    return count
