"""`insightlog report`: the governance report as one self-contained HTML file (and PDF)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from insightlog.cli import output
from insightlog.cli.basis import basis_option, chosen_basis, tsa_ca_option
from insightlog.cli.context import Context, parse_as_of


def _write(path: Path, text: str, overwrite: bool) -> None:
    from insightlog.safefile import write_bytes

    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes(path, text.encode("utf-8"), overwrite=overwrite)


@click.command()
@click.option("--service", metavar="NAME", help="The service to report on (exact name).")
@click.option(
    "--all",
    "all_services",
    is_flag=True,
    help="The provider page across every service, plus one page per service beside it.",
)
@click.option(
    "--as-of", metavar="TIME", help="What the log said then: RFC 3339, or a date (end of that UTC day). Default: now."
)
@click.option(
    "-o",
    "--output",
    "out",
    type=click.Path(),
    help="HTML file to write [default: report-<service>.html, or provider.html with --all]; with --all a directory (existing, or ending in /) gets provider.html inside it.",
)
@click.option(
    "--pdf",
    is_flag=True,
    help="Also print each page written to PDF (same name, .pdf) through headless Chromium (/usr/bin/chromium).",
)
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Thresholds overriding insightlog-defs-0.2 (JSON or TOML).",
)
@click.option(
    "--checkpoint",
    "outside",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    multiple=True,
    help="A checkpoint file held outside the store, checked when verifying; repeatable.",
)
@click.option("--force", is_flag=True, help="Replace files that exist (never through a symbolic link).")
@basis_option
@tsa_ca_option
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
    force: bool,
    basis: str,
    tsa_ca: Path | None,
) -> None:
    """Write the governance report: one self-contained HTML file (no scripts, no network).

    For one service: the governance view, a drift chart per theme, a recognition timeline per
    issue, reviews, triggers with the events they cite, the evidence table and the ledger's
    integrity, all as of --as-of. With --all: the provider page (recognition lags, drift heat
    map, overdue reviews, open triggers), written to -o, and each service's report beside it as
    report-<service>.html, linked from it. --pdf prints every page written to PDF as well.
    --basis says whose clock decides what was recorded by --as-of; the report header names it.
    Entries withdrawn by then are struck through in the evidence table, with who, when and why.

    Example:

        \b
        insightlog report --service "Harbour Home Care" --as-of 2026-06-30 -o report.html --pdf

        \b
        insightlog report --all --as-of 2026-06-30 -o provider.html
    """
    from insightlog.cli.analysis import _load_policy
    from insightlog.report import print_pdf, service_file_names

    if all_services == (service is not None):
        raise click.UsageError("give either --service NAME or --all")
    when = parse_as_of(as_of)
    policy = _load_policy(policy_file)
    chosen = chosen_basis(obj, basis, tsa_ca)
    on = "" if basis == "recorded" else f" on the {basis} basis"
    written: list[Path] = []
    if service is not None:
        target = Path(out) if out else Path(service_file_names([service])[service])
        if out and (out.endswith(("/", os.sep)) or target.is_dir()):
            raise click.UsageError(f"-o {out} is a directory; give the HTML file to write")
        html = obj.app.service_report(service, when, policy=policy, outside_files=outside, basis=chosen)
        _write(target, html, force)
        written.append(target)
        output.note(f"wrote {target}: {service} as of {when.text}{on}")
    else:
        target = Path(out or "provider.html")
        if out and (out.endswith(("/", os.sep)) or target.is_dir()):
            target = target / "provider.html"
        pages = obj.app.provider_report(when, policy=policy, outside_files=outside, basis=chosen)
        _write(target, pages.provider, force)
        written.append(target)
        for name, text in pages.services.items():
            path = target.parent / name
            _write(path, text, force)
            written.append(path)
        output.note(f"wrote {target} and {len(pages.services)} service report(s) beside it, as of {when.text}{on}")
        for name in pages.skipped:
            output.note(f"skipped {name}: no event recorded by {when.text}")
    if pdf:
        for path in written:
            pdf_path = path.with_suffix(".pdf")
            print_pdf(path, pdf_path, chromium=obj.config.chromium, overwrite=force)
            output.note(f"wrote {pdf_path}")


def register(group: click.Group) -> None:
    group.add_command(report)
