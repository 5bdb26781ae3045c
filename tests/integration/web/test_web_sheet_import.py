"""Importing a spreadsheet in the browser: a dry run that writes nothing and shows every problem,
then the import of exactly the files previewed, by the account that previewed them, into its own
service only; both steps in the access log."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from insightlog.web.urls import tilde_encode
from tests.helpers import ROOT
from tests.integration.web.conftest import Site

SERVICE = "Harbour Home Care"
BASE = "/services/" + tilde_encode(SERVICE)
SHEETS = ROOT / "examples" / "sheets"
CSV = (SHEETS / "care_system_export.csv").read_bytes()
TOML = (SHEETS / "care_system_export.toml").read_bytes()
TOKEN = re.compile(r'name="token" value="([^"]+)"')


def upload(site: Site, client: Any, sheet: bytes = CSV, mapping: bytes = TOML) -> Any:
    csrf = site.csrf(client, f"{BASE}/import")
    files = {
        "sheet": ("care_system_export.csv", sheet, "text/csv"),
        "mapping": ("care_system_export.toml", mapping, "application/toml"),
    }
    return client.post(f"{BASE}/import", data={"csrf_token": csrf}, files=files)


def recorder(site: Site, name: str = "Dee Deputy") -> Any:
    return site.signed_in(name, role="deputy_manager", rights=("view", "record"))


def test_a_sheet_is_previewed_without_writing_then_imported_all_at_once(site: Site) -> None:
    client = recorder(site)
    before = site.usecases.ledger.head_size()
    preview = upload(site, client)
    assert preview.status_code == 200, preview.text
    assert "Nothing has been written yet" in preview.text and "IncidentRecorded" in preview.text
    assert site.usecases.ledger.head_size() == before
    token = TOKEN.search(preview.text)
    assert token
    (seen,) = site.log_rows("sheet_previewed")
    assert seen["detail"]["file"] == "care_system_export.csv" and seen["detail"]["problems"] == 0
    csrf = site.csrf(client, f"{BASE}/import")
    done = client.post(f"{BASE}/import/confirm", data={"csrf_token": csrf, "token": token.group(1)})
    assert done.status_code == 303, done.text
    events = seen["detail"]["events"]
    assert site.usecases.ledger.head_size() == before + events
    (imported,) = site.log_rows("sheet_imported")
    assert imported["detail"]["imported"] == events and imported["detail"]["sha256"] == seen["detail"]["sha256"]
    history = client.get(done.headers["location"]).text
    assert f"Imported {events} events" in history
    stored = site.usecases.house.usecases.stored_event("HHC-CS-INC-2026-0412")
    assert stored is not None and stored["ledger"]["source"] == "import:care_system_export.csv"
    # Check the staged files are gone: the same token imports nothing again.
    again = client.post(f"{BASE}/import/confirm", data={"csrf_token": csrf, "token": token.group(1)})
    assert again.status_code == 400 and site.usecases.ledger.head_size() == before + events


def test_problems_in_the_sheet_or_the_mapping_are_shown_and_nothing_can_be_imported(site: Site) -> None:
    client = recorder(site)
    before = site.usecases.ledger.head_size()
    bad_mapping = upload(site, client, mapping=b"mapping_version = 1\n[[tables]]\nkind = 3\n")
    assert bad_mapping.status_code == 400 and 'id="mapping-error"' in bad_mapping.text
    bad_date = CSV.replace(b"02/10/2026 19:40", b"31/02/2026 19:40")
    bad = upload(site, client, sheet=bad_date)
    assert bad.status_code == 400 and "row 2" in bad.text and "Date/time of event" in bad.text
    assert TOKEN.search(bad.text) is None
    assert site.usecases.ledger.head_size() == before


def test_a_sheet_of_another_service_is_refused(site: Site) -> None:
    client = recorder(site)
    before = site.usecases.ledger.head_size()
    other = TOML.replace(b'service = "Harbour Home Care"', b'service = "Quayside Care / North & East"')
    response = upload(site, client, mapping=other)
    assert response.status_code == 400 and "other services" in response.text
    assert site.usecases.ledger.head_size() == before and site.log_rows("sheet_previewed") == []


def test_an_upload_is_imported_only_by_the_account_that_previewed_it(site: Site) -> None:
    first = recorder(site)
    token = TOKEN.search(upload(site, first).text)
    assert token
    second = recorder(site, "Sam Second")
    before = site.usecases.ledger.head_size()
    csrf = site.csrf(second, f"{BASE}/import")
    for value in (token.group(1), "../../etc", "x" * 40):
        response = second.post(f"{BASE}/import/confirm", data={"csrf_token": csrf, "token": value})
        assert response.status_code == 400
    assert site.usecases.ledger.head_size() == before and site.log_rows("sheet_imported") == []


def test_the_staging_folder_is_private(site: Site) -> None:
    from insightlog.web.sheetimport import staging_root

    root: Path = staging_root()
    assert root.stat().st_mode & 0o077 == 0
