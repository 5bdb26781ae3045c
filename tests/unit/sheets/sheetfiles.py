"""Builders of the files providers have, made with writer libraries (openpyxl, odfpy, csv)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any

Rows = list[list[Any]]


def xlsx_bytes(sheets: dict[str, Rows], formats: dict[str, dict[str, str]] | None = None) -> bytes:
    """A workbook with one sheet per entry; ``rows[0]`` is row 1. Dates become date cells."""
    from openpyxl import Workbook

    wb = Workbook()
    first = True
    for name, rows in sheets.items():
        ws = wb.active if first else wb.create_sheet(name)
        ws.title = name
        first = False
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is None:
                    continue
                cell = ws.cell(r, c, value)
                if isinstance(value, datetime):
                    cell.number_format = "dd/mm/yyyy hh:mm"
                elif isinstance(value, date):
                    cell.number_format = "dd/mm/yyyy"
        for ref, fmt in (formats or {}).get(name, {}).items():
            ws[ref].number_format = fmt
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def ods_bytes(sheets: dict[str, Rows]) -> bytes:
    """An OpenDocument spreadsheet, written with odfpy."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    for name, rows in sheets.items():
        table = Table(name=name)
        for row in rows:
            tr = TableRow()
            for value in row:
                if value is None:
                    tc = TableCell()
                elif isinstance(value, bool):
                    tc = TableCell(valuetype="boolean", booleanvalue="true" if value else "false")
                    tc.addElement(P(text=str(value)))
                elif isinstance(value, (int, float)):
                    tc = TableCell(valuetype="float", value=value)
                    tc.addElement(P(text=str(value)))
                elif isinstance(value, (date, datetime)):
                    tc = TableCell(valuetype="date", datevalue=value.isoformat())
                    tc.addElement(P(text=value.isoformat()))
                else:
                    tc = TableCell(valuetype="string")
                    tc.addElement(P(text=str(value)))
                tr.addElement(tc)
            table.addElement(tr)
        doc.spreadsheet.addElement(table)
    out = io.BytesIO()
    doc.write(out)
    return out.getvalue()


def csv_bytes(
    rows: Rows, *, delimiter: str = ",", encoding: str = "utf-8", bom: bool = False, crlf: bool = True
) -> bytes:
    """A CSV file as Excel on Windows writes one (``bom`` adds a UTF-8 byte-order mark)."""
    text = io.StringIO(newline="")
    writer = csv.writer(text, delimiter=delimiter, lineterminator="\r\n" if crlf else "\n")
    writer.writerows([["" if v is None else v for v in row] for row in rows])
    body = text.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" if bom else b"") + body


SPOT_CHECK_MAPPING = """
mapping_version = 1
[defaults]
service = "Harbour Home Care"
actor_role = "deputy_manager"
record = "spot_check_app"

[[tables]]
kind = "SpotCheckRecorded"
event_id = { template = "SC-{Ref}" }
theme = { column = "Area", map = { "MAR charts" = "medicines.mar_charts", "Referrals" = "safeguarding.referrals" } }
team = { column = "Round", map = { North = "north", South = "south", East = "east" } }
actor_id = { column = "By" }
observed_at = { column = "Checked on" }
recorded_at = { column = "Entered" }

[tables.payload]
items_checked = { column = "Checked" }
items_compliant = { column = "OK" }
compliance_pct = { percent = ["items_compliant", "items_checked"] }
evidence_score = { band = "compliance_pct" }
evidence_category = "processes"
source_type = "spot_check"
summary = { template = "{Area} ({Round}): {OK} of {Checked}" }
"""

SPOT_HEADER = ["Ref", "Area", "Round", "By", "Checked on", "Entered", "Checked", "OK"]


def spot_row(
    ref: str,
    *,
    area: str = "MAR charts",
    rnd: str = "North",
    on: Any = "03/02/2026 14:30",
    entered: str = "03/02/2026 16:00",
    checked: Any = 10,
    ok: Any = 7,
    by: str = "DM-1",
) -> list[Any]:
    return [ref, area, rnd, by, on, entered, checked, ok]
