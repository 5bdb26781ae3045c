"""The analysis package is pure: it reads entries it is given, never a store or a database."""

from __future__ import annotations

import ast
from pathlib import Path

import insightlog.analysis

FORBIDDEN = ("eventsourcing", "sqlalchemy", "psycopg", "sqlite3", "insightlog.application", "insightlog.storage")
PACKAGE = Path(insightlog.analysis.__file__).parent


def _imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            names.append(node.module)
    return names


def test_no_analysis_module_imports_a_store_a_database_or_the_application_layer() -> None:
    offending = [
        f"{path.name}: {name}"
        for path in sorted(PACKAGE.glob("*.py"))
        for name in _imports(path)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    ]
    assert offending == []


def test_the_purity_check_sees_imports_nested_in_functions_and_type_checking_blocks(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from insightlog.application.ledger import Ledger\n"
        "def f():\n    import sqlite3\n",
        encoding="utf-8",
    )
    assert _imports(sample) == ["typing", "insightlog.application.ledger", "sqlite3"]
