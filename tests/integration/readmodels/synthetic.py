"""Synthetic histories for the read-model tests and timings: the worked example, cloned.

``service_lines(i, blocks)`` is the Harbour Home Care history renamed to ``Service <i>`` and
repeated ``blocks`` times, each block shifted 182 days later, with event ids, references, audit
and action ids made unique. 70 events per block; 14 blocks give 980 events per service.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

HARBOUR = Path(__file__).resolve().parents[3] / "examples" / "harbour_home_care.jsonl"
SHIFT_DAYS = 182


def _base() -> list[dict[str, Any]]:
    return [json.loads(line) for line in HARBOUR.read_text().splitlines() if line.strip()]


def _shift_ts(text: str, days: int) -> str:
    value = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ") + timedelta(days=days)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _shift_date(text: str, days: int) -> str:
    return (date.fromisoformat(text) + timedelta(days=days)).isoformat()


def service_lines(index: int, blocks: int = 1, name: str | None = None) -> list[dict[str, Any]]:
    """Interchange objects (recorded order) of one synthetic service."""
    base = _base()
    service = name or f"Service {index:03d}"
    out: list[dict[str, Any]] = []
    for block in range(blocks):
        days = block * SHIFT_DAYS
        prefix = f"S{index:03d}B{block:02d}-"
        for src in base:
            if block and src["kind"] in ("ServiceRegistered", "ThemeDefined"):
                continue
            obj = json.loads(json.dumps(src))
            obj["service"] = service
            obj["event_id"] = prefix + src["event_id"]
            obj["observed_at"] = _shift_ts(src["observed_at"], days)
            obj["recorded_at"] = _shift_ts(src["recorded_at"], days)
            p = obj["payload"]
            for key in ("amends", "supersedes", "stated_position_ref"):
                if isinstance(p.get(key), str) and p[key].startswith("HHC-"):
                    p[key] = prefix + p[key]
            for key in ("audit_id", "action_id"):
                if isinstance(p.get(key), str):
                    p[key] = prefix + p[key]
            for key in ("anchor_date", "due"):
                if isinstance(p.get(key), str):
                    p[key] = _shift_date(p[key], days)
            out.append(obj)
    return out


def write_service_files(folder: Path, services: int, blocks: int) -> list[Path]:
    """One JSONL file per synthetic service."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(services):
        path = folder / f"service_{i:03d}.jsonl"
        path.write_text("".join(json.dumps(o) + "\n" for o in service_lines(i, blocks)))
        paths.append(path)
    return paths


def far_future_clock() -> datetime:
    return datetime(2040, 1, 1, 12, 0, 0, tzinfo=UTC)
