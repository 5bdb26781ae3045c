"""The vocabulary on the command line: ``insightlog kinds [KIND]``, and the helpers of ``record``
(the kinds in its help, every problem reported at once in the user's own options, prompting for
missing required fields on a terminal).

Descriptions come from ``insightlog.interchange.vocabulary`` (generated from the validating
models); it is imported inside the functions, so the CLI starts without pydantic.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from insightlog.cli import output

if TYPE_CHECKING:
    from insightlog.cli.context import Context
    from insightlog.interchange.vocabulary import FieldDoc, KindDoc, Problem


class RecordCommand(click.Command):
    """``record``, whose help ends with the kinds (read from the models when help is shown)."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from insightlog.interchange.vocabulary import describe_all, role_names

        with formatter.section("Kinds ('insightlog kinds KIND' shows a kind's payload fields and an example)"):
            formatter.write_dl([(doc.kind, doc.meaning) for doc in describe_all()])
        with formatter.section("Roles (--actor-role)"):
            formatter.write_text(", ".join(role_names()))
        super().format_epilog(ctx, formatter)


# --- insightlog kinds ---------------------------------------------------------------------------


@click.command("kinds")
@click.argument("kind", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the description as JSON.")
def kinds(kind: str | None, as_json: bool) -> None:
    """List the kinds of event, or describe one: its payload fields, their types and allowed
    values, and an example record command. Generated from the models that validate input.

    \b
    Example:
        insightlog kinds
        insightlog kinds SpotCheckRecorded
        insightlog kinds EvidenceAmended --json
    """
    from insightlog.interchange.vocabulary import describe, describe_all, kind_names, unknown_kind_message

    if kind is None:
        docs = describe_all()
        if as_json:
            output.emit_json([{"kind": d.kind, "family": d.family, "meaning": d.meaning} for d in docs])
            return
        width = max(len(d.kind) for d in docs)
        family = None
        for doc in docs:
            if doc.family != family:
                if family is not None:
                    output.line()
                family = doc.family
                output.line(family)
            output.line(f"  {doc.kind.ljust(width)}  {doc.meaning}")
        output.line()
        output.line("Describe one, with an example: insightlog kinds KIND")
        return
    if kind not in kind_names():
        raise click.ClickException(unknown_kind_message(kind))
    doc = describe(kind)
    if as_json:
        output.emit_json(doc.as_dict())
        return
    for text in kind_lines(doc):
        output.line(text)


def kind_lines(doc: KindDoc) -> list[str]:
    """The human description of a kind, line by line."""
    from insightlog.interchange.vocabulary import role_names

    lines = [f"{doc.kind} ({doc.family}): {doc.meaning}", ""]
    theme = "required for this kind" if doc.theme_required else "optional"
    lines += [
        "Envelope options:",
        "  --service NAME                         required",
        f"  --actor-role ROLE                      required: {', '.join(role_names())}",
        "  --actor-id ID                          required (a staff id, never a name)",
        f"  --theme THEME                          {theme} (a dotted theme name)",
        "  --location, --team, --shift, --record  optional (names)",
        "  --observed-at TIME                     optional; default now, never later than now",
        "  --event-id ID                          optional; your own id (1-64 of A-Z a-z 0-9 . _ : -)",
    ]
    for title, fields in (("Required payload fields:", doc.required), ("Optional payload fields:", doc.optional)):
        if not fields:
            continue
        lines += ["", title]
        width = max(len(f.name) for f in fields)
        for f in fields:
            lines.append(f"  {f.name.ljust(width)}  {f.type_text}" + (f"  ({f.note})" if f.note else ""))
            for sub in _sub_fields(f):
                lines.append(
                    f"  {''.ljust(width)}    {sub.name}{'' if sub.required else '?'}: {sub.type_text}"
                    + (f"  ({sub.note})" if sub.note else "")
                )
    if doc.extra_fields_kept:
        lines += ["", "Any further payload fields are kept exactly as given."]
    lines += ["", "Example:", f"  {doc.example.command()}"]
    return lines


def _sub_fields(f: FieldDoc) -> tuple[FieldDoc, ...]:
    if f.fields:
        return f.fields
    if f.item is not None:
        return f.item.fields
    return ()


# --- record: all problems at once, in the user's options ------------------------------------------


def read_payload(value: str | None) -> tuple[Any, Problem | None]:
    """The --payload value decoded strictly (jsonparse): JSON text, @file or - for stdin."""
    from insightlog.interchange.jsonparse import JSONInputError, loads
    from insightlog.interchange.vocabulary import Problem

    if value is None:
        return {}, None
    data: bytes | str
    if value == "-":
        stream = getattr(sys.stdin, "buffer", None)
        data = stream.read() if stream is not None else sys.stdin.read()
    elif value.startswith("@"):
        try:
            data = Path(value[1:]).read_bytes()
        except OSError as exc:
            return None, Problem("payload", f"cannot read {value[1:]!r}: {exc.strerror or exc}")
    else:
        data = value
    try:
        return loads(data, depth=2), None
    except JSONInputError as exc:
        return None, Problem(f"payload.{exc.path}" if exc.path else "payload", exc.message)


def where(field: str) -> str:
    """The user's own name for an interchange field of a live event."""
    from insightlog.interchange.vocabulary import FIELD_OPTIONS

    if field in FIELD_OPTIONS:
        return FIELD_OPTIONS[field]
    if field == "kind":
        return "KIND"
    if field == "payload":
        return "--payload"
    if field.startswith("payload."):
        return f"--payload field '{field[len('payload.') :]}'"
    if field == "recorded_at":
        return "recorded_at (stamped by the ledger's clock)"
    return f"field '{field}'"


def render(kind: str, problems: list[Problem]) -> str:
    """The error of a refused record: the kind, each problem named by the user's option."""
    from insightlog.interchange.vocabulary import kind_names

    known = kind in kind_names()
    label = f"record {kind}" if known else "record"
    hint = (
        f"'insightlog kinds {kind}' shows its fields and an example" if known else "'insightlog kinds' lists the kinds"
    )
    items = [p.message if p.message.startswith(where(p.field)) else f"{where(p.field)}: {p.message}" for p in problems]
    if len(items) == 1:
        return f"{label}: {items[0]}; nothing written ({hint})"
    # Every problem at once, still one line (every error of the CLI is one line).
    return f"{label}: {len(items)} problems, nothing written: " + "; ".join(items) + f" ({hint})"


def _on_terminal() -> bool:
    return sys.stdin.isatty()


def _promptable(field: str) -> bool:
    if field in ("service", "actor_role", "actor_id", "theme"):
        return True
    rest = field[len("payload.") :] if field.startswith("payload.") else None
    return bool(rest) and "." not in rest and "[" not in rest  # type: ignore[operator]


def _should_prompt(kind: str, problems: list[Problem], prompt: bool | None, payload_text: str | None) -> bool:
    if prompt is False or payload_text == "-" or not problems:
        return False
    if not all(p.missing and _promptable(p.field) for p in problems):
        return False  # fix what is wrong first: prompting only fills in what is missing
    if prompt is True:
        return True
    if not _on_terminal():
        return False
    names = ", ".join(where(p.field) for p in problems)
    return click.confirm(f"record {kind}: missing {names}. Enter them now?", default=True, err=True)


class _JsonValue(click.ParamType):  # type: ignore[type-arg]  # generic only in newer click
    name = "json"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from insightlog.interchange.jsonparse import JSONInputError, loads

        if not isinstance(value, str):
            return value
        try:
            return loads(value, depth=3)
        except JSONInputError as exc:
            self.fail(str(exc), param, ctx)


def _ask_envelope(field: str, kind: str) -> str:
    from insightlog.interchange.vocabulary import role_names

    option = where(field)
    if field == "actor_role":
        return str(click.prompt(option, type=click.Choice(role_names()), err=True))
    if field == "theme":
        return str(click.prompt(f"{option} (a dotted theme name; required for {kind})", type=str, err=True))
    return str(click.prompt(option, type=str, err=True))


def _ask_payload(doc: FieldDoc) -> Any:
    label = f"--payload field '{doc.name}' ({doc.type_text})" + (f" [{doc.note}]" if doc.note else "")
    empty: dict[str, Any] = {"default": "", "show_default": False} if doc.nullable else {}
    if doc.base == "choice":  # click shows the choices
        return click.prompt(f"--payload field '{doc.name}'", type=click.Choice(doc.allowed), err=True)
    if doc.base == "integer" and not doc.nullable:
        low = int(doc.minimum) if doc.minimum is not None else None
        high = int(doc.maximum) if doc.maximum is not None else None
        return click.prompt(label, type=click.IntRange(low, high), err=True)
    if doc.base == "number" and not doc.nullable:
        return click.prompt(label, type=click.FloatRange(doc.minimum, doc.maximum), err=True)
    if doc.base in ("text", "name"):
        value = click.prompt(label, type=str, err=True, **empty)
        return None if doc.nullable and value == "" else value
    if doc.base == "list" and doc.item is not None and doc.item.base in ("text", "name"):
        value = click.prompt(label + " (comma-separated)", type=str, default="", show_default=False, err=True)
        return [part.strip() for part in value.split(",") if part.strip()]
    return click.prompt(label + " (JSON)", type=_JsonValue(), err=True)


def record_event(
    obj: Context,
    kind: str,
    fields: dict[str, str | None],
    payload_text: str | None,
    *,
    prompt: bool | None,
    as_json: bool,
    new_scope: bool = False,
) -> None:
    """The body of ``record``: check everything at once, prompt on a terminal for what is
    missing, record, and report problems in the user's own options (never a generated id)."""
    from insightlog.interchange.timeutil import TimeFormatError, parse_observed
    from insightlog.interchange.validation import LineError
    from insightlog.interchange.vocabulary import Problem, describe, kind_names, live_problems

    now = datetime.now(tz=UTC).replace(microsecond=0)
    payload, payload_problem = read_payload(payload_text)
    event: dict[str, Any] = {name: value for name, value in fields.items() if name != "observed_at"}
    event.update(kind=kind, payload=payload, observed_at=None)
    early: list[Problem] = []
    if fields.get("observed_at") is not None:
        try:
            event["observed_at"] = parse_observed(str(fields["observed_at"]))
        except TimeFormatError as exc:
            early.append(Problem("observed_at", str(exc)))
    problems = early + live_problems(event, now, payload_problem=payload_problem)
    if _should_prompt(kind, problems, prompt, payload_text):
        doc = describe(kind) if kind in kind_names() else None
        for problem in problems:
            if problem.field.startswith("payload.") and doc is not None:
                field_doc = doc.field(problem.field[len("payload.") :])
                if field_doc is not None:
                    event["payload"][field_doc.name] = _ask_payload(field_doc)
            else:
                event[problem.field] = _ask_envelope(problem.field, kind)
        problems = early + live_problems(event, now, payload_problem=payload_problem)
    if problems:
        raise click.ClickException(render(kind, problems))

    event["event_id"] = fields.get("event_id") or None
    try:
        outcome = obj.app.record(event, new_scope=new_scope)
    except LineError as exc:  # a rule that needs the store: names, references, ids, recorded order
        raise click.ClickException(render(kind, [Problem(exc.field, exc.message)])) from None
    output.report_write(outcome)
    result = outcome.result
    event_id = result.receipts[0].event_id if result.receipts else result.skipped[0]
    if as_json:
        stored = obj.app.stored_event(event_id)
        output.emit_json(stored if stored else result.receipts[0].as_dict())
        return
    if result.skipped:
        output.note(f"{event_id} was already stored with the same content; nothing written")
    output.line(event_id)


def register(group: click.Group) -> None:
    group.add_command(kinds)
