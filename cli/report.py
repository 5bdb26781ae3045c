"""`insightlog report`: the governance report as one self-contained HTML file (and PDF)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from insightlog.cli import output
from insightlog.cli.main import Context, parse_as_of, run


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _report_call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    from insightlog.report import ReportError

    try:
        return run(fn, *args, **kwargs)
    except ReportError as exc:
        raise click.ClickException(str(exc)) from None


@click.command()
@click.option("--service", metavar="NAME", help="The service to report on (exact name).")
@click.option("--all", "all_services", is_flag=True, help="The provider page across every service, plus one page per service beside it.")
@click.option("--as-of", metavar="TIME", help="What the log said then: RFC 3339, or a date (end of that UTC day). Default: now.")
@click.option(
    "-o",
    "--output",
    "out",
    type=click.Path(),
    help="HTML file to write [default: report-<service>.html, or provider.html with --all]; with --all a directory (existing, or ending in /) gets provider.html inside it.",
)
@click.option("--pdf", is_flag=True, help="Also print each page written to PDF (same name, .pdf) through headless Chromium (/usr/bin/chromium).")
@click.option("--policy", "policy_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Thresholds overriding insightlog-defs-0.2 (JSON or TOML).")
@click.option("--checkpoint", "outside", type=click.Path(exists=True, dir_okay=False, path_type=Path), multiple=True, help="A checkpoint file held outside the store, checked when verifying; repeatable.")
@click.pass_obj
def report(
    obj: Context,
    service: str | None,
    all_services: bool,
    as_of: str | None,
    out: str | None,
    pdf: bool,
    policy_file: Path | None,
    outside: tuple[Path, ...],
) -> None:
    """Write the governance report: one self-contained HTML file (no scripts, no network).

    For one service: the governance view, a drift chart per theme, a recognition timeline per
    issue, reviews, triggers with the events they cite, the evidence table and the ledger's
    integrity, all as of --as-of. With --all: the provider page (recognition lags, drift heat
    map, overdue reviews, open triggers), written to -o, and each service's report beside it as
    report-<service>.html, linked from it. --pdf prints every page written to PDF as well.

    Example:

        insightlog report --service "Harbour Home Care" --as-of 2026-06-30 -o report.html --pdf

        insightlog report --all --as-of 2026-06-30 -o provider.html
    """
    from insightlog.cli.analysis import _load_policy
    from insightlog.application.proofs import load_outside
    from insightlog.report import print_pdf, provider_report_html, service_file_names, service_report_html

    if all_services == (service is not None):
        raise click.UsageError("give either --service NAME or --all")
    when = parse_as_of(as_of)
    policy = _load_policy(policy_file)
    checkpoints = [cp for path in outside for cp in run(load_outside, path)]
    written: list[Path] = []
    if service is not None:
        target = Path(out) if out else Path(service_file_names([service])[service])
        if out and (out.endswith(("/", os.sep)) or target.is_dir()):
            raise click.UsageError(f"-o {out} is a directory; give the HTML file to write")
        html = _report_call(service_report_html, obj.ledger, service, when, policy=policy, outside=checkpoints)
        _write(target, html)
        written.append(target)
        output.note(f"wrote {target}: {service} as of {when.text}")
    else:
        target = Path(out or "provider.html")
        if out and (out.endswith(("/", os.sep)) or target.is_dir()):
            target = target / "provider.html"
        pages = _report_call(provider_report_html, obj.ledger, when, policy=policy, outside=checkpoints)
        _write(target, pages.provider)
        written.append(target)
        for name, text in pages.services.items():
            path = target.parent / name
            _write(path, text)
            written.append(path)
        output.note(f"wrote {target} and {len(pages.services)} service report(s) beside it, as of {when.text}")
        for name in pages.skipped:
            output.note(f"skipped {name}: no event recorded by {when.text}")
    if pdf:
        for path in written:
            pdf_path = path.with_suffix(".pdf")
            _report_call(print_pdf, path, pdf_path)
            output.note(f"wrote {pdf_path}")


def register(group: click.Group) -> None:
    group.add_command(report)
