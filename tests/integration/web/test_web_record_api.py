"""The JSON API's record endpoint, and the three doors compared: the same event recorded by
``insightlog record``'s use case, through the form and through the API is the same entry, byte
for byte, apart from its source (``live``, ``live:web``, ``live:api``), on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from insightlog.proof.canonical import fields_leaf_object, leaf_hash_of_bytes, leaf_object_bytes
from insightlog.web.urls import tilde_encode
from tests.integration.web.conftest import CLI, OTHER, SERVICE, Site, make_site

BASE = "/services/" + tilde_encode(SERVICE)
API = "/api/v1/services/" + tilde_encode(SERVICE) + "/events"
NOW = datetime(2026, 12, 1, 10, 0, 0, tzinfo=UTC)
PAYLOAD = {
    "evidence_score": 3,
    "evidence_category": "processes",
    "source_type": "audit",
    "summary": "MAR-AUDIT section: 15/20",
    "items_checked": 20,
    "items_compliant": 15,
    "compliance_pct": 75.0,
}
ENVELOPE = {"theme": "medicines.mar_charts", "location": None, "team": "north", "shift": None, "record": "SC-9"}


def token_for(site: Site, name: str, rights: tuple[str, ...] = ("view", "record"), **kwargs: Any) -> str:
    from insightlog.accounts.rights import Right

    site.add(name, rights=rights, **kwargs)
    return site.accounts.create_token(name, "feed", {Right(r) for r in rights}, None, by=CLI)[0]


def api_event(event_id: str, **overrides: Any) -> dict[str, Any]:
    body = {"event_id": event_id, "kind": "SpotCheckRecorded", **ENVELOPE, "observed_at": None, "payload": PAYLOAD}
    body.update(overrides)
    return body


def post(site: Site, token: str, body: Any, path: str = API) -> Any:
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    return site.client().post(
        path, content=content, headers={"authorization": f"Bearer {token}", "content-type": "application/json"}
    )


def test_an_event_posted_to_the_api_is_recorded_once_however_often_it_is_sent(site: Site) -> None:
    token = token_for(site, "Feed Owner", role="quality_lead")
    before = site.usecases.ledger.head_size()
    first = post(site, token, api_event("API-1"))
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["stored"] is True and body["source"] == "live:api" and body["position"] == before + 1
    site.clock.advance(seconds=3)
    again = post(site, token, api_event("API-1"))
    assert again.status_code == 200 and again.json()["stored"] is False
    assert site.usecases.ledger.head_size() == before + 1
    stored = site.usecases.house.usecases.stored_event("API-1")
    assert stored is not None and stored["actor_id"] == site.accounts.get_user("Feed Owner").staff_id
    assert [r["event"] for r in site.log_rows() if r["event"].startswith("record")] == ["recorded", "record_repeated"]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (api_event("API-2", actor_id="RM-1"), "actor_id", "token owner"),
        (api_event("API-2", recorded_at="2026-01-01T00:00:00Z"), "recorded_at", "ledger stamps"),
        (api_event("API-2", payload={**PAYLOAD, "evidence_score": 4}), "payload.evidence_score", "CQC band 3"),
        (api_event("API-2", theme=None), "theme", "required"),
        (api_event("API-2", kind="NoSuchKind"), "kind", "unknown kind"),
        (api_event("API 2"), "event_id", "must be"),
        (api_event("API-2", observed_at="2026-13-01"), "observed_at", ""),
    ],
)
def test_a_bad_event_is_refused_naming_its_field_and_nothing_is_written(
    site: Site, body: dict[str, Any], field: str, message: str
) -> None:
    token = token_for(site, "Feed Owner")
    before = site.usecases.ledger.head_size()
    response = post(site, token, body)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field and message in response.json()["error"]
    assert site.usecases.ledger.head_size() == before


def test_malformed_json_and_oversized_bodies_are_refused(site: Site) -> None:
    token = token_for(site, "Feed Owner")
    before = site.usecases.ledger.head_size()
    assert post(site, token, b"{not json").status_code == 400
    assert post(site, token, b"[]").status_code == 400
    assert post(site, token, b'{"a": "' + b"x" * (1 << 20) + b'"}').status_code == 413
    assert site.usecases.ledger.head_size() == before


def test_a_judgement_needs_a_token_with_the_judge_right(site: Site) -> None:
    token = token_for(site, "Feed Owner")
    body = api_event(
        "API-J",
        kind="JudgementRecorded",
        team=None,
        record=None,
        payload={"score": 3, "confidence": "high", "exceptions": [], "supersedes": None, "narrative": "fine"},
    )
    response = post(site, token, body)
    assert response.status_code == 403
    assert site.log_rows("refused")[-1]["detail"]["permission"] == "judge"
    judge = token_for(site, "Rita Manager", rights=("view", "record", "judge"), role="registered_manager")
    assert post(site, judge, body).status_code == 201


def test_a_token_without_the_record_right_or_for_another_service_is_refused(site: Site) -> None:
    viewer = token_for(site, "Vera Viewer", rights=("view",))
    other = token_for(site, "Olly Other", services=(OTHER,))
    before = site.usecases.ledger.head_size()
    assert post(site, viewer, api_event("API-V")).status_code == 403
    assert post(site, other, api_event("API-O")).status_code == 403
    assert post(site, "il_" + "0" * 43, api_event("API-X")).status_code == 401
    assert site.usecases.ledger.head_size() == before


# ------------------------------------------------------------------ the three doors


def _form_post(site: Site, event_id: str) -> None:
    client = site.client()
    site.add("Quinn Lead", role="quality_lead", rights=("view", "record"))
    assert site.sign_in(client, "Quinn Lead").status_code == 303
    page = client.get(f"{BASE}/record/AuditSectionScored").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf
    data = {"csrf_token": csrf.group(1), "event_id": event_id, "theme": ENVELOPE["theme"], "team": ENVELOPE["team"]}
    data |= {"record": ENVELOPE["record"], "payload.audit_id": "MAR-AUDIT-2026-12"}
    data |= {f"payload.{k}": str(v) for k, v in PAYLOAD.items()}
    response = client.post(f"{BASE}/record/AuditSectionScored", data=data)
    assert response.status_code == 303, response.text


def _recorded_by_each_door(stores: Any) -> dict[str, tuple[dict[str, Any], bytes]]:
    """The same event through each door, each into its own copy of the same store at the same
    ledger time: the stored object and the export of the service."""
    payload = {**PAYLOAD, "audit_id": "MAR-AUDIT-2026-12"}
    out: dict[str, tuple[dict[str, Any], bytes]] = {}
    for door in ("cli", "web", "api"):
        site = make_site(stores.new(), ledger_clock=lambda: NOW)
        try:
            staff = "ID-QuinnLead"
            if door == "cli":
                event = {"event_id": "DOOR-1", "service": SERVICE, **ENVELOPE, "kind": "AuditSectionScored"}
                event |= {"actor_role": "quality_lead", "actor_id": staff, "observed_at": None, "payload": payload}
                site.usecases.house.usecases.record(event)
            elif door == "web":
                _form_post(site, "DOOR-1")
            else:
                token = token_for(site, "Quinn Lead", role="quality_lead")
                response = post(site, token, api_event("DOOR-1", kind="AuditSectionScored", payload=payload))
                assert response.status_code == 201, response.text
            stored = site.usecases.house.usecases.stored_event("DOOR-1")
            assert stored is not None
            buffer = io.BytesIO()
            site.usecases.house.usecases.export(buffer, service=SERVICE)
            out[door] = (stored, buffer.getvalue())
        finally:
            site.accounts.close()
            site.usecases.close()
    return out


def test_the_cli_the_form_and_the_api_record_the_same_entry_but_for_its_source(stores: Any) -> None:
    doors = _recorded_by_each_door(stores)
    cli, _ = doors["cli"]
    assert cli["ledger"]["source"] == "live"
    for door, (stored, _export) in doors.items():
        assert stored["ledger"]["source"] == ("live" if door == "cli" else f"live:{door}")
        fields = {k: v for k, v in stored.items() if k != "ledger"}
        assert fields == {k: v for k, v in cli.items() if k != "ledger"}, door
        assert (stored["ledger"]["position"], stored["ledger"]["appended_at"]) == (
            cli["ledger"]["position"],
            cli["ledger"]["appended_at"],
        )
        # Check the leaf hash is the CLI's once the source is put back, and differs by the source alone.
        leaf = fields_leaf_object(fields, stored["ledger"]["position"], stored["ledger"]["appended_at"], "live")
        assert leaf_hash_of_bytes(leaf_object_bytes(leaf)).hex() == cli["ledger"]["leaf_hash"], door
        own = fields_leaf_object(
            fields, stored["ledger"]["position"], stored["ledger"]["appended_at"], stored["ledger"]["source"]
        )
        assert leaf_hash_of_bytes(leaf_object_bytes(own)).hex() == stored["ledger"]["leaf_hash"]
    # Check the exports (no provenance) are byte for byte the same from the API as from the CLI,
    # and the same JSON from the form (which writes the payload in the model's field order).
    assert doors["api"][1] == doors["cli"][1]
    assert [orjson.loads(line) for line in doors["web"][1].splitlines()] == [
        orjson.loads(line) for line in doors["cli"][1].splitlines()
    ]


def test_many_request_threads_recording_at_once_all_get_through(site: Site) -> None:
    # Each request runs in a thread of its own; on PostgreSQL a writer waiting for the store's
    # writer lock holds a pooled connection, so more waiting writers than the pool would leave the
    # lock's holder none to write with (a stall until the lock wait gives up).
    from concurrent.futures import ThreadPoolExecutor

    def record(i: int) -> str:
        event = {"event_id": f"T-{i}", "service": SERVICE, **ENVELOPE, "kind": "SpotCheckRecorded"}
        event |= {"actor_role": "quality_lead", "actor_id": "QL-T", "observed_at": None, "payload": PAYLOAD}
        return site.usecases.record(event, "api").event_id

    before = site.usecases.ledger.head_size()
    with ThreadPoolExecutor(max_workers=24) as pool:
        done = list(pool.map(record, range(24)))
    assert sorted(done) == sorted(f"T-{i}" for i in range(24))
    assert site.usecases.ledger.head_size() == before + 24
