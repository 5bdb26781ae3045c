"""`insightlog analyse`: the analysis of one service as of a moment, as JSON or tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from insightlog.cli import output
from insightlog.cli.basis import basis_option, chosen_basis, tsa_ca_option
from insightlog.cli.context import Context, parse_as_of

BACKFILL_MARK = "†"
_BASIS_TEXT = {
    "ledger": "this store's own append time, not the provider's recorded_at",
    "proven": "the verified timestamp of the first checkpoint covering the event",
}


def _load_policy(path: Path | None) -> Any:
    from insightlog.application.usecases import load_policy

    return load_policy(path)


@click.command()
@click.option("--service", required=True, metavar="NAME", help="The exact service name.")
@click.option(
    "--as-of", metavar="TIME", help="What the log said then: RFC 3339, or a date (end of that UTC day). Default: now."
)
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Thresholds overriding insightlog-defs-0.2 (JSON or TOML).",
)
@basis_option
@tsa_ca_option
@click.option("--json", "as_json", is_flag=True, help="Print the analysis document (analysis-output.md).")
@click.pass_obj
def analyse(
    obj: Context,
    service: str,
    as_of: str | None,
    policy_file: Path | None,
    basis: str,
    tsa_ca: Path | None,
    as_json: bool,
) -> None:
    """Time to recognition, optimism drift, improvement, reviews and triggers for one service.

    Computed from the events alone, as of any moment: events recorded later are invisible, and so
    are entries withdrawn by then. It never writes, so it works on a store opened read-only.
    --basis ledger asks what the system itself showed on a day (history typed in later counts
    from its import); --basis proven trusts only timestamped checkpoints.

    \b
    Example:

        \b
        insightlog analyse --service "Harbour Home Care" --as-of 2026-03-31 --json
        insightlog analyse --service "Harbour Home Care" --as-of 2026-03-31 --basis ledger
    """
    when = parse_as_of(as_of)
    policy = _load_policy(policy_file)
    chosen = chosen_basis(obj, basis, tsa_ca)
    if as_json:
        output.emit_json(obj.app.analyse(service, when, policy, chosen))
        return
    detail, backfilled = obj.app.explain(service, when, policy, chosen)
    render_report(detail, backfilled)


def _ids(ids: Any, backfilled: set[str]) -> str:
    if ids is None:
        return "-"
    if isinstance(ids, str):
        ids = [ids]
    return ", ".join(f"{i}{BACKFILL_MARK}" if i in backfilled else i for i in ids) or "-"


def render_report(detail: dict[str, Any], backfilled: set[str]) -> None:
    doc = detail["document"]
    output.line(f"{doc['service']} — analysis as of {doc['as_of']} ({doc['definitions_version']})")
    if "policy" in doc:
        output.line(f"policy {doc['policy']['name']}: overrides {doc['policy']['overrides']}")
    if "basis" in doc:
        output.line(f"basis {doc['basis']}: every recording instant is {_BASIS_TEXT[doc['basis']]}")
    if detail.get("withdrawn"):
        named = ", ".join(f"{target} (by {by})" for target, by in detail["withdrawn"].items())
        output.line(f"{len(detail['withdrawn'])} entries withdrawn by then count for nothing: {named}")
    output.line("")
    output.table(
        [
            "theme",
            "extent",
            "affected / sampled",
            "first signal",
            "detectable",
            "acknowledged",
            "lag days (recog/detect/claimed/open)",
            "after acknowledgement",
        ],
        [
            [
                r["theme"],
                r["extent"],
                f"{', '.join(r['affected_scopes']) or '-'} / {', '.join(r['sampled_scopes']) or '-'}",
                f"{_ids(r['first_signal'], backfilled)} obs {r['first_signal_observed']}",
                f"{_ids(r['pattern_detectable'], backfilled)} rec {r['pattern_detectable_recorded']}",
                f"{_ids(r['acknowledgement'], backfilled)} rec {r['ack_recorded']}"
                if r["acknowledgement"]
                else "NOT ACKNOWLEDGED",
                "/".join(
                    "-" if r[k] is None else str(r[k])
                    for k in ("recognition_lag_days", "detectable_lag_days", "claimed_lag_days", "open_lag_days")
                ),
                ", ".join(f"{a['event_id']}: {a['status']}" for a in r["after_acknowledgement"]) or "-",
            ]
            for r in doc["recognition"]
        ],
        max_width=80,
        title="Time to recognition (repeated episodes)",
    )
    output.line("")
    output.line("Isolated themes: " + (", ".join(doc["isolated_themes"]) or "none"))
    output.line("")
    signals = {r["theme"] + r["first_signal_observed"]: r["signals"] for r in detail["recognition"]}
    if signals:
        output.table(
            ["episode", "signals"],
            [[k[:-10] + " from " + k[-10:], _ids(v, backfilled)] for k, v in signals.items()],
            max_width=120,
            title="Signals behind each episode",
        )
        output.line("")
    sign_text = {1: "+1 optimistic", 0: "0", -1: "-1 cautious", None: "-"}
    output.table(
        ["theme", "scope", "month", "J", "J event", "E", "D", "sign", "evidence behind E"],
        [
            [
                row["theme"],
                row["scope"],
                row["month"],
                row["J"],
                row["J_event"],
                row["E"],
                row["D"],
                sign_text[row["sign"]],
                _ids(ex["evidence"], backfilled),
            ]
            for row, ex in zip(doc["drift"], detail["drift"], strict=True)
            if row["J"] is not None or row["E"] is not None
        ],
        max_width=70,
        title="Optimism drift (rows with neither J nor E omitted; --json lists every row)",
    )
    output.line("")
    status = doc["improvement_status"]
    if status:
        dates = sorted({d for per in status.values() for d in per})
        output.table(
            ["theme", *dates],
            [[t, *(per.get(d, "-") for d in dates)] for t, per in status.items()],
            title="Improvement status",
        )
    else:
        output.line("Improvement status: no theme has an adverse signal")
    output.line("")
    output.table(
        ["level", "due by", "held", "days overdue"],
        [[r["level"], r["due_by"], r["held"] or "still open", r["days_overdue"]] for r in doc["reviews"]["overdue"]],
        title="Overdue reviews",
    )
    output.line("")
    output.table(
        ["review", "level", "held", "recorded", "days late"],
        [
            [_ids(r["event_id"], backfilled), r["level"], r["held"], r["recorded"], r["days_late"]]
            for r in doc["reviews"]["late_recorded"]
        ],
        title="Reviews recorded late (> 7 days after held)",
    )
    output.line("")
    output.table(
        ["fired on", "trigger", "theme", "scope", "events"],
        [[t["fired_on"], t["trigger"], t["theme"], t["scope"], _ids(t["events"], backfilled)] for t in doc["triggers"]],
        max_width=80,
        title="Triggers fired",
    )
    if backfilled:
        output.line("")
        output.line(f"{BACKFILL_MARK} back-filled: its recording time rests on the provider's word, not on the ledger")
    output.line("")
    output.line("Follow any event id back with: insightlog history --service NAME (each row names its event ids)")


def register(group: click.Group) -> None:
    group.add_command(analyse)
