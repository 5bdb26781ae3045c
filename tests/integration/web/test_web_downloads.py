"""Downloads from the browser: the report (HTML and PDF) and the evidence pack, for the audit
right only, each in the access log; the pack verifies with nothing but itself."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from insightlog.web.urls import tilde_encode
from tests.integration.web.conftest import SERVICE, Site, make_site

BASE = "/services/" + tilde_encode(SERVICE)


@pytest.fixture
def keyed_site(stores: Any, tmp_path: Path) -> Iterator[Site]:
    """A site whose house has a signing key, and a checkpoint of the example."""
    from insightlog.proof.keys import create_key_files

    key = tmp_path / "keys" / "provider.key"
    create_key_files(key, key.with_name("provider.key.pub"), None)
    site = make_site(stores.new(), key_path=key, checkpoint_file=tmp_path / "checkpoints.jsonl")
    site.usecases.house.usecases.checkpoint()
    yield site
    for c in site.clients:
        c.close()
    site.accounts.close()
    site.usecases.close()


def test_an_auditor_downloads_a_pack_that_verifies_and_the_access_log_says_so(keyed_site: Site, tmp_path: Path) -> None:
    from insightlog.proof.pack import verify_pack as verify_pack_file

    site = keyed_site
    client = site.signed_in("Ada Auditor", rights=("view", "audit"))
    page = client.get(f"{BASE}/downloads")
    assert page.status_code == 200 and f'action="{BASE}/pack.zip"' in page.text
    response = client.get(f"{BASE}/pack.zip", params={"as_of": "2026-06-30", "theme": "medicines"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert "attachment" in response.headers["content-disposition"]
    pack = tmp_path / "pack.zip"
    pack.write_bytes(response.content)
    assert zipfile.is_zipfile(io.BytesIO(response.content))
    report = verify_pack_file(pack)
    assert report.ok, report
    (row,) = site.log_rows("pack_downloaded")
    assert row["user_name"] == "Ada Auditor" and row["subject"] == SERVICE
    assert row["detail"]["theme"] == "medicines" and row["detail"]["as_of"] == "2026-06-30T23:59:59Z"


def test_the_report_downloads_as_html_and_pdf(keyed_site: Site) -> None:
    site = keyed_site
    client = site.signed_in("Ada Auditor", rights=("view", "audit"))
    html = client.get(f"{BASE}/report.html", params={"as_of": "2026-06-30"})
    assert html.status_code == 200 and html.text.startswith("<!DOCTYPE html>")
    assert "attachment" in html.headers["content-disposition"]
    pdf = client.get(f"{BASE}/report.pdf", params={"as_of": "2026-06-30"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert [r["detail"]["format"] for r in site.log_rows("report_downloaded")] == ["html", "pdf"]


def test_a_viewer_cannot_download_and_a_bad_date_is_shown_on_the_page(keyed_site: Site) -> None:
    site = keyed_site
    viewer = site.signed_in("Vera Viewer", rights=("view",))
    for path in ("downloads", "report.html", "report.pdf", "pack.zip"):
        assert viewer.get(f"{BASE}/{path}").status_code == 403, path
    auditor = site.signed_in("Ada Auditor", rights=("view", "audit"))
    bad = auditor.get(f"{BASE}/pack.zip", params={"as_of": "30/06/2026"})
    assert bad.status_code == 400 and 'id="as_of-error"' in bad.text
    assert site.log_rows("pack_downloaded") == []


def test_a_record_through_the_form_is_checkpointed_and_in_the_next_pack(keyed_site: Site, tmp_path: Path) -> None:
    from insightlog.proof.pack import verify_pack as verify_pack_file
    from tests.integration.web.test_web_record import form_page, spot_check_form

    site = keyed_site
    client = site.signed_in("Rita Manager", role="registered_manager", rights=("view", "record", "audit"))
    _, csrf, event_id = form_page(client, f"{BASE}/record/SpotCheckRecorded")
    client.post(
        f"{BASE}/record/SpotCheckRecorded", data={**spot_check_form(), "csrf_token": csrf, "event_id": event_id}
    )
    response = client.get(f"{BASE}/pack.zip", params={"theme": "medicines.mar_charts"})
    assert response.status_code == 200, response.text
    pack = tmp_path / "now.zip"
    pack.write_bytes(response.content)
    assert verify_pack_file(pack).ok
    with zipfile.ZipFile(pack) as z:
        assert any(event_id.encode() in z.read(n) for n in z.namelist())
