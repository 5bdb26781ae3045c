"""Import from the spreadsheets providers have (CSV, XLSX, ODS) with a TOML mapping file.

The door for the CLI and, later, the web application::

    mapping = load_mapping(Path("tracker.toml"))      # or the TOML text
    result = convert(Path("tracker.xlsx"), mapping)    # or the file's bytes
    result.ok, result.problems, result.unmapped, result.preview(10), result.events
    receipt = import_result(ledger, result, source_name="tracker.xlsx")   # sheets.ledger

Conversion is pure (no storage imports); ``insightlog.sheets.ledger`` compares with a store and
imports through ``Ledger.import_lines``.
"""

from __future__ import annotations

from insightlog.sheets.convert import ConversionResult, Origin, convert
from insightlog.sheets.mapping import MappingError, SheetMapping, load_mapping
from insightlog.sheets.problems import Cell, Problem, UnmappedValue

__all__ = [
    "Cell",
    "ConversionResult",
    "MappingError",
    "Origin",
    "Problem",
    "SheetMapping",
    "UnmappedValue",
    "convert",
    "load_mapping",
]
