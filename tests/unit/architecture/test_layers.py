"""The house's layers (docs/adr/0011-the-house.md): no import cycle, and no forbidden edge."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from tests.unit.architecture.importgraph import ROOT, cycles, graph, modules

HEAVY = ("eventsourcing", "sqlalchemy", "psycopg", "sqlite3")

# layer -> the layers it must never import (directly or inside a function)
FORBIDDEN = {
    "errors": {"*"},
    "interchange": {
        "aggregates",
        "analysis",
        "application",
        "storage",
        "projections",
        "proof",
        "report",
        "cli",
        "bootstrap",
        "taxonomies",
    },
    "taxonomies": {
        "aggregates",
        "analysis",
        "application",
        "storage",
        "projections",
        "proof",
        "report",
        "cli",
        "bootstrap",
    },
    "aggregates": {"analysis", "application", "storage", "projections", "report", "cli", "bootstrap"},
    "analysis": {"aggregates", "application", "storage", "projections", "proof", "report", "cli", "bootstrap"},
    "proof": {"aggregates", "analysis", "application", "storage", "projections", "report", "cli", "bootstrap"},
    "report": {"aggregates", "application", "storage", "projections", "cli", "bootstrap"},
    "storage": {"analysis", "application", "projections", "proof", "report", "cli", "bootstrap"},
    "projections": {"report", "cli", "bootstrap"},
    "application": {"cli", "bootstrap"},
    "bootstrap": {"cli"},
    "cli": {"storage", "projections", "aggregates", "analysis", "taxonomies"},
}


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "insightlog"


def test_the_import_graph_has_no_cycle() -> None:
    assert cycles(graph()) == []


def test_no_layer_imports_a_layer_it_must_not() -> None:
    bad = []
    for source, targets in graph().items():
        forbidden = FORBIDDEN.get(layer(source), set())
        for target in targets:
            if layer(target) != layer(source) and ("*" in forbidden or layer(target) in forbidden):
                bad.append(f"{source} -> {target}")
    assert bad == []


def test_the_graph_sees_function_level_imports_and_skips_type_checking_ones() -> None:
    # Check the walker itself on known edges: a lazy import inside a function counts.
    edges = graph()
    assert "insightlog.storage.writelock" in edges["insightlog.application.ledger"]
    assert "insightlog.application.usecases" in edges["insightlog.bootstrap"]
    assert "insightlog.application.ledger" not in edges["insightlog.analysis.engine"]


def _environment_reads(tree: ast.AST) -> list[str]:
    """INSIGHTLOG_* names a module reads itself: os.environ[...], os.environ.get(...),
    os.getenv(...), or click's envvar=."""
    found = []
    for node in ast.walk(tree):
        key: ast.AST | None = None
        if isinstance(node, ast.Subscript) and ast.unparse(node.value).endswith("environ"):
            key = node.slice
        elif isinstance(node, ast.Call) and ast.unparse(node.func).endswith(
            ("environ.get", "getenv", "environ.setdefault")
        ):
            key = node.args[0] if node.args else None
        elif isinstance(node, ast.keyword) and node.arg == "envvar":
            key = node.value
        if isinstance(key, ast.Constant) and isinstance(key.value, str) and key.value.startswith("INSIGHTLOG_"):
            found.append(key.value)
    return found


def test_no_module_but_the_composition_root_reads_insightlog_settings() -> None:
    readers = {
        name: names
        for name, path in modules().items()
        if name != "insightlog.bootstrap" and (names := _environment_reads(ast.parse(path.read_text(encoding="utf-8"))))
    }
    assert readers == {}
    # Check the walker finds a read written each way.
    sample = ast.parse(
        "os.environ['INSIGHTLOG_A']; os.environ.get('INSIGHTLOG_B'); os.getenv('INSIGHTLOG_C'); f(envvar='INSIGHTLOG_D')"
    )
    assert _environment_reads(sample) == ["INSIGHTLOG_A", "INSIGHTLOG_B", "INSIGHTLOG_C", "INSIGHTLOG_D"]


def test_the_composition_root_reads_every_documented_setting() -> None:
    from insightlog.bootstrap import config_from_env

    config = config_from_env(
        {
            "INSIGHTLOG_DB": "a.sqlite",
            "INSIGHTLOG_READ_ONLY": "1",
            "INSIGHTLOG_CIPHER_KEY": "k",
            "INSIGHTLOG_KEY": "p.key",
            "INSIGHTLOG_KEY_PASSPHRASE": "pass",
            "INSIGHTLOG_CHECKPOINT_FILE": "c.jsonl",
            "INSIGHTLOG_WORKERS": "3",
            "INSIGHTLOG_CHROMIUM": "/opt/chromium",
            "INSIGHTLOG_WRITER_PASSWORD": "w",
            "INSIGHTLOG_AUDITOR_PASSWORD": "a",
        }
    )
    assert (config.store.sqlite_path, config.store.read_only, config.store.cipher_key, config.store.workers) == (
        "a.sqlite",
        True,
        "k",
        3,
    )
    assert (str(config.key_path), config.key_passphrase, str(config.checkpoint_file)) == ("p.key", b"pass", "c.jsonl")
    assert (config.chromium, config.writer_password, config.auditor_password) == ("/opt/chromium", "w", "a")
    url = config_from_env({"INSIGHTLOG_DATABASE_URL": "postgresql://u@h/db", "INSIGHTLOG_DB": "ignored.sqlite"})
    assert (url.store.database_url, url.store.sqlite_path) == ("postgresql://u@h/db", None)
    options = config_from_env({"INSIGHTLOG_DB": "env.sqlite"}, db="option.sqlite", read_only=False)
    assert (options.store.sqlite_path, options.store.read_only) == ("option.sqlite", False)


def _loaded_after_import(module: str) -> set[str]:
    code = f"import sys, {module}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return set(out.stdout.split())


@pytest.mark.parametrize("module", ["insightlog.proof.pack", "insightlog.report"])
def test_the_offline_verifier_and_the_report_load_no_database_library(module: str) -> None:
    loaded = _loaded_after_import(module)
    assert sorted(m for m in loaded if m.split(".")[0] in HEAVY) == []


@pytest.mark.parametrize(
    "module", ["insightlog.analysis", "insightlog.aggregates", "insightlog.interchange.validation"]
)
def test_the_pure_layers_load_no_database_library_nor_the_application(module: str) -> None:
    loaded = _loaded_after_import(module)
    allowed = {"eventsourcing"} if module == "insightlog.aggregates" else set()
    assert sorted(m for m in loaded if m.split(".")[0] in set(HEAVY) - allowed) == []
    assert sorted(m for m in loaded if m.startswith(("insightlog.application", "insightlog.storage"))) == []
