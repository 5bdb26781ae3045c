"""`insightlog report` end to end: the file it writes, its errors, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import HARBOUR, invoke
from tests.integration.report.fixtures import EXPECTED, SERVICE
from tests.integration.report.htmlparse import int_or_none, nullable, parse


def test_report_writes_one_self_contained_html_file_equal_to_the_analysis(stores, tmp_path: Path) -> None:
    args = stores.cli_args(stores.new())
    assert invoke([*args, "import", str(HARBOUR)]).exit_code == 0
    out = tmp_path / "report.html"
    result = invoke([*args, "--read-only", "report", "--service", SERVICE, "--as-of", "2026-03-31", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert f"wrote {out}" in result.stderr
    assert [p.name for p in tmp_path.iterdir() if p.suffix in (".html", ".partial")] == ["report.html"]
    page = parse(out.read_text(encoding="utf-8"))
    want = json.loads(EXPECTED["2026-03-31"].read_text())
    lags = [(f.get("data-theme"), int_or_none(f.get("data-lag"))) for f in page.find_all("figure", cls="recognition")]
    assert lags == [(r["theme"], r["recognition_lag_days"]) for r in want["recognition"]]
    drift = [
        (r.get("data-theme"), nullable(r.get("data-scope")), r.get("data-month"), nullable(r.get("data-e")))
        for r in page.find_all("tr", cls="drift-row")
    ]
    assert drift == [(r["theme"], r["scope"], r["month"], r["E"]) for r in want["drift"]]
    assert [r.get("data-trigger") for r in page.find_all("tr", cls="trigger-row")] == [
        t["trigger"] for t in want["triggers"]
    ]


def test_report_without_output_writes_report_slug_html_in_the_current_directory(tmp_path: Path, monkeypatch) -> None:
    db = ["--db", str(tmp_path / "s.sqlite")]
    invoke([*db, "import", str(HARBOUR)])
    monkeypatch.chdir(tmp_path)
    result = invoke([*db, "report", "--service", SERVICE, "--as-of", "2026-06-30"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "report-harbour-home-care.html").exists()


def test_report_needs_exactly_one_of_service_and_all(tmp_path: Path) -> None:
    db = ["--db", str(tmp_path / "s.sqlite")]
    for extra in ([], ["--service", SERVICE, "--all"]):
        result = invoke([*db, "report", *extra, "-o", str(tmp_path / "x.html")])
        assert result.exit_code == 2
        assert "give either --service NAME or --all" in result.output
    assert not (tmp_path / "x.html").exists()


def test_report_of_an_unknown_service_or_before_any_event_is_a_one_line_error(tmp_path: Path) -> None:
    db = ["--db", str(tmp_path / "s.sqlite")]
    invoke([*db, "import", str(HARBOUR)])
    out = tmp_path / "r.html"
    result = invoke([*db, "report", "--service", "Nowhere", "-o", str(out)])
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: no events of service 'Nowhere' in this store"
    result = invoke([*db, "report", "--service", SERVICE, "--as-of", "2025-12-31", "-o", str(out)])
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: service 'Harbour Home Care' has no event recorded by 2025-12-31T23:59:59Z"
    result = invoke([*db, "report", "--all", "--as-of", "2025-12-31", "-o", str(out)])
    assert result.exit_code == 1 and "no service has an event recorded by 2025-12-31T23:59:59Z" in result.stderr
    result = invoke([*db, "report", "--service", SERVICE, "--as-of", "soon", "-o", str(out)])
    assert result.exit_code == 1 and "--as-of 'soon' is neither" in result.stderr
    assert not out.exists()


def test_pdf_without_chromium_is_a_clear_error_after_the_html_is_written(tmp_path: Path, monkeypatch) -> None:
    db = ["--db", str(tmp_path / "s.sqlite")]
    invoke([*db, "import", str(HARBOUR)])
    monkeypatch.setenv("INSIGHTLOG_CHROMIUM", str(tmp_path / "no-chromium"))
    out = tmp_path / "r.html"
    result = invoke([*db, "report", "--service", SERVICE, "--as-of", "2026-06-30", "-o", str(out), "--pdf"])
    assert result.exit_code == 1
    assert (
        f"cannot print to PDF: no Chromium at {tmp_path / 'no-chromium'} (install Debian's package: apt-get install chromium"
        in result.stderr
    )
    assert out.exists() and not out.with_suffix(".pdf").exists()


def test_report_help_has_an_example() -> None:
    result = invoke(["report", "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output and "--pdf" in result.output and "--all" in result.output


def test_report_all_into_a_directory_writes_provider_html_inside_it(tmp_path: Path) -> None:
    db = ["--db", str(tmp_path / "s.sqlite")]
    invoke([*db, "import", str(HARBOUR)])
    site = tmp_path / "site"
    result = invoke([*db, "report", "--all", "--as-of", "2026-06-30", "-o", f"{site}/"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in site.iterdir()) == ["provider.html", "report-harbour-home-care.html"]
    result = invoke([*db, "report", "--service", SERVICE, "-o", str(site)])
    assert result.exit_code == 2 and "is a directory" in result.output
