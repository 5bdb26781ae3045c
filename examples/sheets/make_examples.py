"""Write the two example sources of examples/sheets/ (invented data), byte for byte reproducibly.

    .venv/bin/python examples/sheets/make_examples.py           # (re)write them
    .venv/bin/python examples/sheets/make_examples.py --check   # exit 1 if the committed files differ

* ``audit_tracker.xlsx``: Harbour Home Care's medicines audit tracker for July-September 2026, as a
  quality lead keeps it in Excel: a title above the header, one row per audit section (newest
  first), audit dates as date cells, "entered" times typed as UK text, and a Headline sheet with
  each audit's dashboard figure. Written with openpyxl, then re-zipped with fixed timestamps.
* ``care_system_export.csv``: the care-management system's export of incidents, complaints and
  compliments for October-November 2026, as Windows writes it: a UTF-8 byte-order mark followed
  by cp1252 text, ``;`` separators, CRLF line ends, UK local times.

They continue the worked example (examples/harbour_home_care.jsonl, which ends in June 2026).
"""

from __future__ import annotations

import argparse
import io
import re
import sys
import zipfile
from datetime import date, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXED = (2026, 11, 30, 12, 0, 0)

SECTIONS_HEADER = [
    "Audit ref",
    "Audit date",
    "Round",
    "Section",
    "Items checked",
    "Items compliant",
    "Compliance",
    "Rating",
    "Auditor",
    "Entered",
    "Notes",
]
# newest first, as the tracker is kept
Section = tuple[str, date, str, str, int, int, str, str, str, str | None]
SECTIONS: list[Section] = [
    (
        "MAR-AUDIT-2026-09R",
        date(2026, 9, 29),
        "East",
        "MAR charts",
        20,
        13,
        "Good",
        "QL-1",
        "30/09/2026 09:30",
        "Re-audit after the September findings",
    ),
    (
        "MAR-AUDIT-2026-09R",
        date(2026, 9, 29),
        "East",
        "Time-critical medicines",
        10,
        9,
        "Outstanding",
        "QL-1",
        "30/09/2026 09:30",
        None,
    ),
    (
        "MAR-AUDIT-2026-09",
        date(2026, 9, 15),
        "East",
        "MAR charts",
        20,
        12,
        "Requires improvement",
        "QL-1",
        "16/09/2026 10:15",
        "Teatime calls: 6 charts unsigned",
    ),
    (
        "MAR-AUDIT-2026-09",
        date(2026, 9, 15),
        "East",
        "Time-critical medicines",
        10,
        8,
        "Good",
        "QL-1",
        "16/09/2026 10:15",
        None,
    ),
    (
        "MAR-AUDIT-2026-08",
        date(2026, 8, 11),
        "South",
        "MAR charts",
        20,
        18,
        "Outstanding",
        "QL-1",
        "12/08/2026 09:00",
        None,
    ),
    (
        "MAR-AUDIT-2026-08",
        date(2026, 8, 11),
        "South",
        "Time-critical medicines",
        10,
        9,
        "Outstanding",
        "QL-1",
        "12/08/2026 09:00",
        None,
    ),
    (
        "MAR-AUDIT-2026-07",
        date(2026, 7, 14),
        "North",
        "MAR charts",
        20,
        17,
        "Good",
        "QL-1",
        "15/07/2026 09:00",
        "Evening calls now signed",
    ),
    (
        "MAR-AUDIT-2026-07",
        date(2026, 7, 14),
        "North",
        "Time-critical medicines",
        10,
        10,
        "Outstanding",
        "QL-1",
        "15/07/2026 09:00",
        None,
    ),
]
HEADLINE_HEADER = ["Audit ref", "Round", "Audit date", "Items checked", "Items compliant", "Headline %", "Entered"]

CSV_HEADER = [
    "Record ID",
    "Record type",
    "Date/time of event",
    "Logged on",
    "Care round",
    "Category",
    "Summary",
    "Harm level",
    "Complaint outcome",
    "Logged by",
    "Staff role",
    "Status",
]
CSV_ROWS = [
    [
        "INC-2026-0412",
        "Incident",
        "02/10/2026 19:40",
        "03/10/2026 08:15",
        "East round",
        "Medication - MAR",
        "Teatime MAR not signed \u2013 carer called away; next carer queried the dose",
        "Near miss",
        "",
        "TL-E",
        "Team leader",
        "Closed",
    ],
    [
        "CMP-2026-0077",
        "Complaint",
        "06/10/2026 11:00",
        "06/10/2026 15:30",
        "East round",
        "Medication - MAR",
        "Client\u2019s son: evening tablets left in the blister pack twice this week",
        "",
        "Upheld",
        "RM-1",
        "Registered manager",
        "Open",
    ],
    [
        "INC-2026-0419",
        "Incident",
        "09/10/2026 08:10",
        "09/10/2026 12:00",
        "South round",
        "Late/missed call",
        "Breakfast call 80 minutes late \u2013 carer\u2019s car broke down",
        "No harm",
        "",
        "TL-S",
        "Team leader",
        "Closed",
    ],
    [
        "CPL-2026-0031",
        "Compliment",
        "12/10/2026 10:00",
        "12/10/2026 10:20",
        "North round",
        "Late/missed call",
        "Card from a client: \u201calways on time, always cheerful\u201d",
        "",
        "",
        "TL-N",
        "Team leader",
        "Closed",
    ],
    [
        "INC-2026-0425",
        "Incident",
        "16/10/2026 17:30",
        "16/10/2026 18:05",
        "East round",
        "Medication - MAR",
        "MAR chart missing from the home; doses given but not recorded",
        "Low harm",
        "",
        "TL-E",
        "Team leader",
        "Closed",
    ],
    [
        "INC-2026-0430",
        "Incident",
        "21/10/2026 09:00",
        "21/10/2026 09:30",
        "East round",
        "Medication - MAR",
        "(draft \u2013 duplicate of INC-2026-0425)",
        "",
        "",
        "TL-E",
        "Team leader",
        "Draft",
    ],
    [
        "CMP-2026-0081",
        "Complaint",
        "03/11/2026 14:00",
        "03/11/2026 16:40",
        "East round",
        "Safeguarding",
        "Neighbour: concern about a client\u2019s weight loss reported on 28/10, nobody called back",
        "",
        "Partly upheld",
        "RM-1",
        "Registered manager",
        "Open",
    ],
    [
        "INC-2026-0441",
        "Incident",
        "10/11/2026 08:20",
        "10/11/2026 11:00",
        "East round",
        "Medication - time critical",
        "Parkinson\u2019s medicine given 50 minutes late after a rota change",
        "Low harm",
        "",
        "TL-E",
        "Team leader",
        "Closed",
    ],
    [
        "CMP-2026-0085",
        "Complaint",
        "18/11/2026 10:30",
        "18/11/2026 15:00",
        "South round",
        "Late/missed call",
        "Client paid \u00a312 for a taxi to clinic after a missed lunch call",
        "",
        "Upheld",
        "RM-1",
        "Registered manager",
        "Open",
    ],
    [
        "INC-2026-0450",
        "Incident",
        "24/11/2026 18:45",
        "25/11/2026 08:30",
        "North round",
        "Medication - MAR",
        "Evening MAR signed before the dose was given (seen on a spot visit)",
        "Near miss",
        "",
        "TL-N",
        "Team leader",
        "Closed",
    ],
]


def audit_tracker() -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "Sections"
    ws["A1"] = "Harbour Home Care \u2013 medicines audit tracker 2026 (quality lead)"
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = "One row per audit section. Rating: CQC words. Entered = when typed into this tracker."
    ws.append(SECTIONS_HEADER)
    for cell in ws[3]:
        cell.font = Font(bold=True)
    for ref, day, rnd, section, checked, ok, rating, auditor, entered, notes in SECTIONS:
        ws.append([ref, day, rnd, section, checked, ok, round(ok / checked, 4), rating, auditor, entered, notes])
        row = ws.max_row
        ws.cell(row, 2).number_format = "dd/mm/yyyy"
        ws.cell(row, 7).number_format = "0%"
    head = wb.create_sheet("Headline")
    head.append(HEADLINE_HEADER)
    audits: dict[str, tuple[str, date, str]] = {}
    counts: dict[str, list[int]] = {}
    for ref, day, rnd, _section, checked, ok, _rating, _auditor, entered, _notes in SECTIONS:
        audits.setdefault(ref, (rnd, day, entered))
        total = counts.setdefault(ref, [0, 0])
        total[0] += checked
        total[1] += ok
    for ref, (rnd, day, entered) in audits.items():
        checked, ok = counts[ref]
        head.append([ref, rnd, day, checked, ok, round(100 * ok / checked, 1), entered])
        head.cell(head.max_row, 3).number_format = "dd/mm/yyyy"
    notes = wb.create_sheet("How to use")
    notes["A1"] = "Add a row per section when an audit is finished; the Headline sheet is what the dashboard shows."
    stamp = datetime(*FIXED)
    wb.properties.created = stamp
    wb.properties.modified = stamp
    wb.properties.creator = "Harbour Home Care quality lead"
    raw = io.BytesIO()
    wb.save(raw)
    return _fixed_zip(raw.getvalue())


def _fixed_zip(data: bytes) -> bytes:
    """The same archive with fixed timestamps (members and document), so the bytes do not depend on the day."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=FIXED)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o600 << 16
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the save time here
                body = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2026-11-30T12:00:00Z", body)
            dst.writestr(member, body)
    return out.getvalue()


def care_system_export() -> bytes:
    import csv

    text = io.StringIO(newline="")
    writer = csv.writer(text, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(CSV_ROWS)
    return b"\xef\xbb\xbf" + text.getvalue().encode("cp1252")


FILES = {"audit_tracker.xlsx": audit_tracker, "care_system_export.csv": care_system_export}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed files; write nothing")
    parser.add_argument("--dir", type=Path, default=HERE, help="where to write (default: beside this script)")
    args = parser.parse_args(argv)
    differ = []
    for name, make in FILES.items():
        data = make()
        path = args.dir / name
        if args.check:
            if not path.exists() or path.read_bytes() != data:
                differ.append(name)
            continue
        path.write_bytes(data)
        print(f"wrote {path} ({len(data)} bytes)")
    if differ:
        print(f"not what make_examples.py writes: {', '.join(differ)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
