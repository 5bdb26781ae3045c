"""Section 7: ledger integrity (what verification checked, the latest checkpoint, findings)."""

from __future__ import annotations

from typing import Any

from insightlog.report.html import Markup, h, join, row, table
from insightlog.report.model import Integrity, ServiceReport
from insightlog.report.sections.common import or_dash, section


def verified_phrase(integrity: Integrity) -> Markup:
    if integrity.ok is None:
        return h("span", "verification could not run", class_="bad")
    if integrity.ok:
        return h("span", f"\u2714 verified ({integrity.events} events)", class_="ok")
    return h("span", f"\u2718 verification FAILED from position {integrity.first_bad_position}", class_="bad")


def integrity_section(report: ServiceReport, total: int) -> Markup:
    return section(7, "integrity", "Ledger integrity", integrity_block(report.integrity), total=total)


def integrity_block(i: Integrity) -> Markup:
    if i.ok is None:
        status: Any = h(
            "p", h("span", "Verification could not run: ", class_="bad"), i.error or "", data_verified="error"
        )
    elif i.ok:
        what = "each event's leaf hash committed when it was appended and the ledger head"
        if i.checkpoints or i.outside_checkpoints:
            what += f", and {i.checkpoints + i.outside_checkpoints} checkpoint(s): roots, {i.signatures_checked} signature(s), {i.tokens_checked} timestamp token(s) and their consistency"
        status = h(
            "p",
            h("span", "\u2714 Verified.", class_="ok"),
            f" When this report was made ({i.checked_at}) the {i.events} stored events matched every commitment: {what}.",
            data_verified="true",
        )
    else:
        status = h(
            "p",
            h("span", "\u2718 Verification FAILED.", class_="bad"),
            f" When this report was made ({i.checked_at}) the stored history no longer matched what was committed, from position {i.first_bad_position}.",
            data_verified="false",
        )
    facts = [
        ("Checked at", i.checked_at),
        ("Events verified", str(i.events)),
        ("Ledger head size", str(i.head_size)),
        ("Checkpoints stored / from outside", f"{i.checkpoints} / {i.outside_checkpoints}"),
        ("Signatures checked", str(i.signatures_checked)),
        ("Timestamp tokens checked", str(i.tokens_checked)),
        ("Events after the latest checkpoint", or_dash(i.after_latest_checkpoint, "no checkpoint yet")),
        ("First bad position", or_dash(i.first_bad_position, "none")),
    ]
    facts_table = table("Verification", ["Check", "Result"], [row(k, [v]) for k, v in facts], class_="integrity")
    if i.latest:
        cp = i.latest
        cp_rows = [
            row("Origin", [h("span", cp["origin"], class_="mono")]),
            row("Size (events covered)", [str(cp["size"])]),
            row("Root hash (SHA-256)", [h("span", cp["root_hash"], class_="mono")]),
            row("Signed at", [cp["timestamp"]]),
            row(
                "Signatures",
                [
                    [h("div", f"{s['role']}: key ", h("span", s["key_id"], class_="mono")) for s in cp["signatures"]]
                    or "none"
                ],
            ),
            row(
                "RFC 3161 timestamp",
                [
                    f"token generated {cp['tsa_time']}" + (f" by {cp['tsa_url']}" if cp["tsa_url"] else "")
                    if cp["tsa_time"]
                    else "no timestamp token"
                ],
            ),
        ]
        cp_block: Any = table(
            "Latest checkpoint",
            ["Field", "Value"],
            cp_rows,
            class_="checkpoint",
            data_size=str(cp["size"]),
            data_signatures=str(len(cp["signatures"])),
        )
    else:
        cp_block = h(
            "p",
            "No checkpoint has been taken: nothing is signed yet ('insightlog keys init', then 'insightlog checkpoint').",
            class_="empty",
            data_size="",
        )
    findings = (
        table("Findings", ["Position", "Finding"], [row(or_dash(p, "\u2013"), [m]) for p, m in i.findings])
        if i.findings
        else None
    )
    notes = h("ul", [h("li", n) for n in i.notes]) if i.notes else None
    return join([status, facts_table, cp_block, findings, notes])
