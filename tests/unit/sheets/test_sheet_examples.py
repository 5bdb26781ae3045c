"""The example sources convert as docs/sheets.md says, and a tampered cell gives the documented problem."""

from __future__ import annotations

import io
from pathlib import Path

from insightlog.sheets import convert, load_mapping

SHEETS = Path(__file__).resolve().parents[3] / "examples" / "sheets"
DOC = Path(__file__).resolve().parents[3] / "docs" / "sheets.md"


def test_the_examples_convert_without_a_problem() -> None:
    tracker = convert(SHEETS / "audit_tracker.xlsx", load_mapping(SHEETS / "audit_tracker.toml"))
    export = convert(SHEETS / "care_system_export.csv", load_mapping(SHEETS / "care_system_export.toml"))
    assert tracker.ok and export.ok, (tracker.messages(), export.messages())
    assert tracker.summary()["kinds"] == {"AuditCompleted": 4, "AuditSectionScored": 8}
    assert export.summary()["kinds"] == {"ComplaintReceived": 3, "FeedbackReceived": 1, "IncidentRecorded": 5}
    assert export.skipped == 1


def test_a_rating_that_disagrees_with_its_percentage_gives_the_problem_the_docs_show() -> None:
    from openpyxl import load_workbook

    workbook = load_workbook(SHEETS / "audit_tracker.xlsx")
    workbook["Sections"]["H6"] = "Good"  # MAR-AUDIT-2026-09, MAR charts: 12/20 = 60%, band 2
    out = io.BytesIO()
    workbook.save(out)
    result = convert(out.getvalue(), load_mapping(SHEETS / "audit_tracker.toml"), file_name="audit_tracker.xlsx")
    (problem,) = result.problems
    assert str(problem) in DOC.read_text()


def test_converting_imports_nothing_of_the_store() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from insightlog.sheets import convert, load_mapping\n"
        f"d = Path({str(SHEETS)!r})\n"
        "r = convert(d / 'care_system_export.csv', load_mapping(d / 'care_system_export.toml'))\n"
        "assert r.ok\n"
        "heavy = ('eventsourcing', 'sqlalchemy', 'psycopg', 'insightlog.application.ledger')\n"
        "print(','.join(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""
