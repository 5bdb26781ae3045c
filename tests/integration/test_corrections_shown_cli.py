"""Corrections shown by every command, and --basis on every command that answers "as of", through
the CLI on SQLite and PostgreSQL (issue 13): history marks, links and hides withdrawn entries,
services lists a service registered in error only with --all, and view, history, report, pack and
analyse all take --basis ledger and name it in their output."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from tests.helpers import ROOT, invoke, write_jsonl

SERVICE = "Harbour Home Care"
CORRECTIONS = ROOT / "examples" / "harbour_home_care_corrections.jsonl"


def store_with_corrections(stores: Any, tmp_path: Path) -> list[str]:
    args = [
        *stores.cli_args(stores.new()),
        "--key",
        str(tmp_path / "provider.key"),
        "--checkpoint-file",
        str(tmp_path / "cp.jsonl"),
    ]
    imported = invoke([*args, "import", str(CORRECTIONS)])
    assert imported.exit_code == 0, imported.output
    return args


def ok(args: list[str]) -> Any:
    result = invoke(args)
    assert result.exit_code == 0, result.output
    return result


def test_history_marks_withdrawn_entries_links_replacements_and_hides_them_on_request(stores, tmp_path: Path) -> None:
    args = store_with_corrections(stores, tmp_path)
    text = ok([*args, "history", "--service", SERVICE, "--theme", "medicines.mar_charts"]).stdout
    assert (
        "HHC-051: withdrawn on 2026-07-02 by registered_manager: wrong care round (by HHC-W02); replaced by HHC-051R"
        in text
    )
    assert "HHC-030: withdrawn on 2026-07-03 by quality_lead: amended the wrong audit section (by HHC-W03)" in text
    assert "corrects HHC-051" in text
    rows = json.loads(ok([*args, "history", "--service", SERVICE, "--json"]).stdout)
    by_id = {r["event_id"]: r for r in rows}
    assert (
        by_id["HHC-046"]["withdrawn"]["by"] == "HHC-W01"
        and by_id["HHC-046"]["withdrawn"]["reason"] == "note belongs to another service"
    )
    assert by_id["HHC-051R"]["corrects"] == "HHC-051" and by_id["HHC-051"]["replaced_by"] == ["HHC-051R"]
    assert by_id["HHC-W04"]["withdraws"] == "HHC-063"
    hidden = json.loads(ok([*args, "history", "--service", SERVICE, "--hide-withdrawn", "--json"]).stdout)
    assert {r["event_id"] for r in hidden} == set(by_id) - {"HHC-030", "HHC-046", "HHC-051", "HHC-063"}
    # As of 2 July (end of day), HHC-030 and HHC-063 were not yet withdrawn: shown, unmarked.
    early = json.loads(
        ok([*args, "history", "--service", SERVICE, "--hide-withdrawn", "--as-of", "2026-07-02", "--json"]).stdout
    )
    early_ids = {r["event_id"] for r in early}
    assert {"HHC-030", "HHC-063"} <= early_ids and not {"HHC-046", "HHC-051"} & early_ids
    human = ok([*args, "history", "--service", SERVICE, "--hide-withdrawn"]).stdout
    assert "withdrawn entries hidden" in human and "Withdrawn entries (" not in human


def test_services_lists_a_service_registered_in_error_only_with_all_and_marks_it(stores, tmp_path: Path) -> None:
    args = store_with_corrections(stores, tmp_path)
    typo = [
        {
            "event_id": "OH-1",
            "service": "Oak Hous",
            "kind": "ServiceRegistered",
            "actor_role": "registered_manager",
            "actor_id": "RM-1",
            "observed_at": "2026-07-20T09:00:00Z",
            "recorded_at": "2026-07-20T09:00:00Z",
            "payload": {
                "service_type": "care home",
                "framework": {"name": "CQC", "taxonomy_version": "SAF-2024"},
                "scopes": [],
            },
        },
        {
            "event_id": "OH-W1",
            "service": "Oak Hous",
            "kind": "EntryWithdrawn",
            "actor_role": "registered_manager",
            "actor_id": "RM-1",
            "observed_at": "2026-07-20T09:05:00Z",
            "recorded_at": "2026-07-20T09:05:00Z",
            "payload": {"withdraws": "OH-1", "reason": "typo: the service is Oak House"},
        },
    ]
    ok([*args, "import", str(write_jsonl(tmp_path / "typo.jsonl", typo))])
    assert ok([*args, "services"]).stdout.splitlines() == [SERVICE]
    assert json.loads(ok([*args, "services", "--json"]).stdout) == [SERVICE]
    listed = ok([*args, "services", "--all"]).stdout.splitlines()
    assert listed[0] == SERVICE
    assert listed[1].startswith(
        "Oak Hous  [WITHDRAWN: registered in error; its ServiceRegistered OH-1 withdrawn on 2026-07-20"
    )
    assert "typo: the service is Oak House (OH-W1)" in listed[1]
    objects = json.loads(ok([*args, "services", "--all", "--json"]).stdout)
    assert [o["service"] for o in objects] == [SERVICE, "Oak Hous"]
    assert objects[0]["registered_in_error"] is None and objects[1]["registered_in_error"]["by"] == "OH-W1"
    # As of before the withdrawal it was an ordinary service.
    assert ok([*args, "services", "--as-of", "2026-07-20T09:02:00Z"]).stdout.splitlines() == [SERVICE, "Oak Hous"]


def test_every_as_of_command_takes_basis_ledger_and_names_it(stores, tmp_path: Path) -> None:
    args = store_with_corrections(stores, tmp_path)
    ok([*args, "keys", "init"])
    ok([*args, "checkpoint"])

    doc = json.loads(ok([*args, "analyse", "--service", SERVICE, "--basis", "ledger", "--json"]).stdout)
    assert doc["basis"] == "ledger" and list(doc)[:3] == ["definitions_version", "basis", "service"]

    view = json.loads(ok([*args, "view", "--basis", "ledger", "--json"]).stdout)
    assert view and {r["basis"] for r in view} == {"ledger"}
    assert "basis ledger" in ok([*args, "view", "--service", SERVICE, "--basis", "ledger"]).stdout
    # Everything was appended today: on the ledger basis, nothing was recorded by mid-2026.
    assert json.loads(ok([*args, "view", "--basis", "ledger", "--as-of", "2026-07-31", "--json"]).stdout) == []
    assert json.loads(ok([*args, "view", "--as-of", "2026-07-31", "--json"]).stdout) != []

    rows = json.loads(ok([*args, "history", "--service", SERVICE, "--basis", "ledger", "--json"]).stdout)
    assert len(rows) == 75 and {r["basis"] for r in rows} == {"ledger"}
    assert all(r["known_at"] == r["appended_at"] for r in rows)
    assert (
        json.loads(
            ok([*args, "history", "--service", SERVICE, "--basis", "ledger", "--as-of", "2026-07-31", "--json"]).stdout
        )
        == []
    )
    title = ok([*args, "history", "--service", SERVICE, "--basis", "ledger"]).stdout.splitlines()[0]
    assert "on the ledger basis (recorded by T means appended to this store by T" in title

    page = tmp_path / "report.html"
    ok([*args, "report", "--service", SERVICE, "--basis", "ledger", "-o", str(page)])
    html = page.read_text()
    assert 'data-basis="ledger"' in html and "Basis ledger (definitions §3.5)" in html
    refused = invoke(
        [
            *args,
            "report",
            "--service",
            SERVICE,
            "--basis",
            "ledger",
            "--as-of",
            "2026-07-31",
            "-o",
            str(tmp_path / "x.html"),
        ]
    )
    assert refused.exit_code == 1 and "no event recorded by 2026-07-31T23:59:59Z on the ledger basis" in refused.stderr
    assert not (tmp_path / "x.html").exists()
    ok([*args, "report", "--all", "--basis", "ledger", "-o", str(tmp_path / "all") + "/"])
    assert 'data-basis="ledger"' in (tmp_path / "all" / "provider.html").read_text()

    pack = tmp_path / "pack.zip"
    made = ok([*args, "pack", "--service", SERVICE, "--basis", "ledger", "-o", str(pack)])
    assert "basis ledger" in made.stdout and "4 withdrawn (marked)" in made.stdout
    with zipfile.ZipFile(pack) as z:
        assert json.loads(z.read("analysis.json"))["basis"] == "ledger"
        readme = z.read("README.txt").decode()
    assert "Basis ledger (definitions §3.5)" in readme and "WITHDRAWN HHC-046 " in readme
    assert ok(["verify-pack", str(pack)]).stdout.startswith("ok")
