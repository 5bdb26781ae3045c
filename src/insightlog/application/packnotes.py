"""What an evidence pack's README says about its basis and its corrections (definitions §3.4, §3.5)."""

from __future__ import annotations

import textwrap
from typing import Any

from insightlog.analysis.basis import basis_sentence

WIDTH = 90


def _fill(text: str, indent: str = "") -> str:
    return (
        textwrap.fill(text, WIDTH, initial_indent=indent, subsequent_indent=indent + ("    " if indent else "")) + "\n"
    )


def pack_corrections_text(rows: list[dict[str, Any]], basis_name: str) -> str:
    """The README lines on the basis and on corrections: which basis decided "recorded by", and
    every selected entry withdrawn by then (when, by whom, why, by which event, its replacements)."""
    text = _fill(basis_sentence(basis_name))
    if basis_name != "recorded":
        text += _fill(f'analysis.json names this basis ("basis": "{basis_name}"); its figures are computed on it.')
    withdrawn = [r for r in rows if r["withdrawn"] is not None]
    if not withdrawn:
        return text + "No entry in this pack was withdrawn by then.\n"
    text += "\n" + _fill(
        f"WITHDRAWN ENTRIES: {len(withdrawn)} of these events {'was' if len(withdrawn) == 1 else 'were'} "
        "withdrawn as made in error by then. "
        "They are in the pack as they were written (nothing is erased), with the EntryWithdrawn that "
        "withdraws each; from its withdrawal on, a withdrawn entry counts for nothing in analysis.json."
    )
    for r in withdrawn:
        w = r["withdrawn"]
        line = (
            f"WITHDRAWN {r['event_id']} (position {r['position']}, {r['kind']}): withdrawn on "
            f"{w['recorded_at'][:10]} by {w['actor_role']}: {w['reason']} (by {w['by']})"
        )
        if r["replaced_by"]:
            line += f"; replaced by {', '.join(r['replaced_by'])}"
        text += _fill(line, "  ")
    for r in rows:
        if r["corrects"] is not None:
            text += _fill(f"REPLACEMENT {r['event_id']} (position {r['position']}) corrects {r['corrects']}", "  ")
    return text
