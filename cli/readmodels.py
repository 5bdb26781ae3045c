"""Commands of the read side: the governance view, the read-model projections, the taxonomies.

Registered on the root group by ``register(cli)``; heavy modules are imported inside commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from insightlog.cli import output
from insightlog.cli.basis import basis_option, chosen_basis, tsa_ca_option
from insightlog.cli.context import creates_store

if TYPE_CHECKING:
    from insightlog.cli.context import Context

SIGN = {1: "+1", 0: "0", -1: "-1", None: "-"}


def _judgement_cell(j: dict[str, Any] | None) -> str:
    if j is None:
        return "-"
    return f"{j['score']} {j['confidence'] or ''} ({j['event_id']})".replace("  ", " ")


def _exceptions_cell(j: dict[str, Any] | None) -> str:
    if not j or not j["exceptions"]:
        return "-"
    parts = []
    for ex in j["exceptions"]:
        where = " ".join(str(v) for v in (ex.get("theme"), ex.get("scope")) if v)
        parts.append(f"{where or 'all'}={ex.get('score')}")
    return "; ".join(parts)


def _month_cell(cell: dict[str, Any]) -> str:
    if cell["E"] is None:
        return "-"
    return f"E {cell['E']} / {SIGN[cell['sign']]}"


def _triggers_cell(triggers: list[dict[str, Any]]) -> str:
    return (
        ", ".join(
            f"{t['trigger'][:2]} {t['fired_on'][5:]}" + (f" {t['scope']}" if t["scope"] else "") for t in triggers
        )
        or "-"
    )


def _overdue_text(overdue: list[dict[str, Any]]) -> str:
    if not overdue:
        return "none"
    parts = []
    for r in overdue:
        held = f"held {r['held']}" if r["held"] else "still open"
        parts.append(f"{r['level']} due {r['due_by']}, {held} ({r['days_overdue']} days overdue)")
    return "; ".join(parts)


def render_view(rows: list[dict[str, Any]], errors: dict[str, str]) -> None:
    """The governance view as tables, grouped by service then key question."""
    services: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        services.setdefault(row["service"], []).append(row)
    for name in sorted(set(services) | set(errors)):
        group = services.get(name, [])
        if name in errors:
            output.line(f"{name}: read model not computed: {errors[name]}")
            output.line()
            continue
        first = group[0]
        on = f", basis {first['basis']}" if "basis" in first else ""
        output.line(f"{name} (as of {first['as_of']}{on}, taxonomy {first['taxonomy_version'] or 'not declared'})")
        output.line(f"overdue reviews: {_overdue_text(first['overdue_reviews'])}")
        by_kq: dict[str, list[dict[str, Any]]] = {}
        for row in group:
            by_kq.setdefault(row["key_question"] or "(key question unknown)", []).append(row)
        for kq, kq_rows in by_kq.items():
            this_month, previous = kq_rows[0]["this_month"]["month"], kq_rows[0]["previous_month"]["month"]
            output.line()
            output.table(
                [
                    "theme",
                    "judgement",
                    "by",
                    "recorded",
                    "exceptions",
                    this_month,
                    previous,
                    "status",
                    "open actions",
                    "triggers (90 days)",
                ],
                [
                    [
                        r["theme"],
                        _judgement_cell(r["judgement"]),
                        f"{r['judgement']['actor_role']} {r['judgement']['actor_id']}" if r["judgement"] else "-",
                        r["judgement"]["recorded_at"][:10] if r["judgement"] else "-",
                        _exceptions_cell(r["judgement"]),
                        _month_cell(r["this_month"]),
                        _month_cell(r["previous_month"]),
                        r["improvement_status"],
                        [a["action_id"] for a in r["open_actions"]],
                        _triggers_cell(r["triggers_last_90_days"]),
                    ]
                    for r in kq_rows
                ],
                max_width=48,
                title=f"{kq} ({', '.join(sorted({r['quality_statement'] for r in kq_rows if r['quality_statement']})) or '-'})",
            )
        output.line()
    if not services and not errors:
        output.line("(no services)")


@click.command()
@click.option("--service", metavar="NAME", help="Only this service (default: every service).")
@click.option(
    "--as-of",
    metavar="TIME",
    help="Compute from the events as of then (RFC 3339 or a date); default: now, from the read models.",
)
@basis_option
@tsa_ca_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of rows (service, key_question, theme, ...).")
@click.option(
    "--verify",
    "verify_rows",
    is_flag=True,
    help="Recompute the rows shown from the events and compare first (not only their digests).",
)
@click.pass_obj
def view(
    obj: Context,
    service: str | None,
    as_of: str | None,
    basis: str,
    tsa_ca: Path | None,
    as_json: bool,
    verify_rows: bool,
) -> None:
    """The governance view: per service and theme, the current leadership judgement, E and drift
    sign this month and last, improvement status, open actions, overdue reviews and the triggers
    of the last 90 days, grouped by CQC key question.

    Without --as-of it reads the SQL read models, which catch up first (read-only stores are read
    as they stand, with a note of how many events they are behind). The rows are checked against
    the digests the projection stored with them before they are shown; --verify recomputes them
    from the events and compares instead (as `insightlog projections verify` does for all). Rows
    that fail are not shown (exit 1, naming the first difference). With --as-of it computes from
    the events, writing nothing. The read models keep the default basis: --basis ledger or proven
    computes from the events (as of now without --as-of), and every row names the basis.

    Example:

        \b
        insightlog view --service "Harbour Home Care"

        \b
        insightlog view --as-of 2026-03-31 --json

        \b
        insightlog view --as-of 2026-03-31 --basis ledger
    """
    from insightlog.cli.context import parse_as_of

    chosen = chosen_basis(obj, basis, tsa_ca)
    result = obj.app.view(service, parse_as_of(as_of) if as_of is not None else None, chosen, verify=verify_rows)
    rows, errors = result.rows, result.errors
    if result.note:
        output.note(result.note)
    if result.checked == "digests":
        output.note(
            "read models checked against the digests stored with them, not recomputed from the events "
            "(`--verify` or `insightlog projections verify` recompute them)"
        )
    elif result.checked == "recomputed":
        output.note("read models recomputed from the events and compared: they match")
    if result.entries_behind:
        output.note(f"read models are {result.entries_behind} events behind (read-only store: shown as they stand)")
    for name, error in sorted(errors.items()):
        output.note(f"{name}: read model not computed: {error}")
    if as_json:
        output.emit_json(rows)
        return
    render_view(rows, errors)


# ------------------------------------------------------------------ projections


@click.group()
def projections() -> None:
    """The SQL read models (tables rm_*) kept by projections over the event log.

    Example:

        \b
        insightlog projections status

        \b
        insightlog projections rebuild
    """


def _report_line(verb: str, report: Any) -> str:
    return (
        f"{verb} read models: {report.entries} events in {report.chunks} chunk(s), "
        f"{len(report.services)} service(s) recomputed, {len(report.refreshed)} refreshed for today, "
        f"at notification {report.position} ({report.seconds:.2f} s)"
    )


@projections.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@click.pass_obj
def status(obj: Context, as_json: bool) -> None:
    """Where the read models stand: tracking position, events behind, each service's as-of time.

    Example:

        \b
        insightlog projections status
    """
    st = obj.app.projections_status()
    doc = {
        "projection": st.projection,
        "exists": st.exists,
        "position": st.position,
        "entry_position": st.entry_position,
        "latest_notification": st.latest_notification,
        "ledger_entries": st.ledger_entries,
        "entries_behind": st.entries_behind,
        "schema_version": st.schema_version,
        "definitions_version": st.definitions_version,
        "updated_at": st.updated_at,
        "dirty_services": st.dirty,
        "pending_entries": st.pending_entries,
        "services": [
            {
                k: s.get(k)
                for k in ("service", "as_of", "events", "last_entry_position", "taxonomy_version", "dirty", "error")
            }
            for s in st.services
        ],
    }
    doc["checked"] = st.checked
    if as_json:
        output.emit_json(doc)
        return
    if not st.exists:
        output.line(
            f"projection {st.projection}: no read models yet ({st.ledger_entries} events in the ledger); "
            "they are built by `insightlog view` or `insightlog projections rebuild`"
        )
        return
    output.line(
        f"projection {st.projection}: at notification {st.position} (event position {st.entry_position}); "
        f"ledger: notification {st.latest_notification}, {st.ledger_entries} events; {st.entries_behind} events behind"
    )
    output.line(f"schema {st.schema_version}, definitions {st.definitions_version}, updated {st.updated_at}")
    if st.checked == "digests":
        output.line(
            "status rows checked against their digests, not recomputed (`insightlog projections verify` recomputes them)"
        )
    if st.dirty:
        output.line(
            f"{len(st.dirty)} service(s) not yet recomputed ({st.pending_entries} events pending): "
            f"{', '.join(st.dirty)}; the next catch-up completes them"
        )
    output.table(
        ["service", "as of", "events", "taxonomy", "recompute pending", "error"],
        [
            [s["service"], s["as_of"], s["events"], s["taxonomy_version"], "yes" if s.get("dirty") else "-", s["error"]]
            for s in st.services
        ],
    )


@projections.command("verify")
@click.option(
    "--service", metavar="NAME", help="Only this service's rows (default: every table, rm_events and rm_tracking too)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
def verify_command(obj: Context, service: str | None, as_json: bool) -> None:
    """Recompute the read models from the events, in memory, and compare them row by row with
    the stored tables; name every row that differs (table, key, column, stored and recomputed
    value) and exit 1 if any does. Nothing is written. The events are taken as stored: `insightlog
    verify --all` verifies them too.

    Example:

        \b
        insightlog projections verify

        \b
        insightlog --read-only projections verify --service "Harbour Home Care" --json
    """
    check = obj.app.verify_read_models(service)
    if as_json:
        output.emit_json(check.as_dict())
    else:
        render_read_model_check(check)
    if not check.ok:
        raise SystemExit(1)


def render_read_model_check(check: Any) -> None:
    """The lines of a read-model verification (``projections verify``, ``verify --all``)."""
    output.line(("OK: " if check.ok else "FAILED: ") + check.summary() + f" ({check.seconds:.2f} s)")
    for difference in check.differences:
        output.line(f"  - {difference.text()}")
    if check.total > len(check.differences):
        output.line(f"  ... {check.total - len(check.differences)} more difference(s) not listed")
    for note in check.notes:
        output.line(f"  {note}")


@projections.command()
@click.pass_obj
def rebuild(obj: Context) -> None:
    """Empty the read-model tables and rebuild them from the whole event log.

    Tables of an older layout are dropped and recreated first. While it runs, readers see the
    tables partly rebuilt.

    Example:

        \b
        insightlog projections rebuild
    """
    report = obj.app.projections_rebuild()
    output.line(_report_line("rebuilt", report))


@projections.command()
@click.pass_obj
def update(obj: Context) -> None:
    """Catch the read models up with the log now (queries also do this before reading).

    Example:

        \b
        insightlog projections update
    """
    report = obj.app.projections_update()
    output.line(_report_line("updated", report))


# ------------------------------------------------------------------ taxonomy


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
@click.pass_context
def taxonomy(ctx: click.Context, as_json: bool) -> None:
    """List the quality-statement taxonomy versions loaded: shipped ones and those added to the ledger.

    Example:

        \b
        insightlog taxonomy

        \b
        insightlog taxonomy add SAF-2026 saf-2026.csv
    """
    if ctx.invoked_subcommand is not None:
        return
    versions = ctx.obj.app.taxonomies()
    rows = [
        {"name": v.name, "statements": len(v.statements), "key_questions": v.key_questions, "source": v.source}
        for v in versions.values()
    ]
    if as_json:
        output.emit_json(rows)
        return
    output.table(
        ["name", "statements", "key questions", "source"],
        [[r["name"], r["statements"], r["key_questions"], r["source"]] for r in rows],
    )


@taxonomy.command("add")
@click.argument("name")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
@creates_store
def taxonomy_add(obj: Context, name: str, file: Path) -> None:
    """Add a taxonomy version from a CSV with the columns id,key_question,quality_statement.

    A version never changes once added: adding the same content again does nothing, different
    content under the same name is an error. Services use it when their ServiceRegistered names it
    as the first word of framework.taxonomy_version.

    Example:

        \b
        insightlog taxonomy add SAF-2026 saf-2026.csv
    """
    version, added = obj.app.add_taxonomy(name, file)
    if added:
        output.line(
            f"added taxonomy {version.name}: {len(version.statements)} quality statements, key questions {', '.join(version.key_questions)}"
        )
    else:
        output.line(f"taxonomy {version.name} is already loaded with the same content; nothing written")


@taxonomy.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the statements as JSON.")
@click.pass_obj
def taxonomy_show(obj: Context, name: str, as_json: bool) -> None:
    """Show the quality statements of one taxonomy version.

    Example:

        \b
        insightlog taxonomy show SAF-2024
    """
    versions = obj.app.taxonomies()
    version = versions.get(name)
    if version is None:
        raise click.ClickException(f"no taxonomy {name!r} is loaded (loaded: {', '.join(versions) or 'none'})")
    if as_json:
        output.emit_json({"name": version.name, "source": version.source, "statements": version.as_rows()})
        return
    output.table(
        ["id", "key question", "quality statement"],
        [[s.id, s.key_question, s.quality_statement] for s in version.statements],
        max_width=80,
        title=f"{version.name} ({version.source}, {len(version.statements)} quality statements)",
    )


def register(cli: click.Group) -> None:
    """Add the read-side commands to the root group."""
    cli.add_command(view)
    cli.add_command(projections)
    cli.add_command(taxonomy)
