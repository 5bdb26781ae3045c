"""Recording through the forms and the JSON API: the account is the actor, the ledger the clock,
every problem next to its field with nothing written, a retried form or request recorded once,
withdrawal and correction from an entry's page, and judgements that show what they replace."""

from __future__ import annotations

import re
from typing import Any

from insightlog.web.urls import tilde_encode
from tests.integration.web.conftest import OTHER, SCRIPT, SERVICE, Site

BASE = "/services/" + tilde_encode(SERVICE)
HIDDEN = re.compile(r'name="event_id" value="([^"]+)"')


def form_page(client: Any, path: str) -> tuple[str, str, str]:
    """The form at ``path``: its page, its CSRF token and its event id."""
    page = client.get(path)
    assert page.status_code == 200, page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    event_id = HIDDEN.search(page.text)
    assert csrf and event_id
    return page.text, csrf.group(1), event_id.group(1)


def spot_check_form(**overrides: str) -> dict[str, str]:
    data = {
        "theme": "medicines.mar_charts",
        "team": "north",
        "payload.evidence_score": "2",
        "payload.evidence_category": "observation",
        "payload.source_type": "spot_check",
        "payload.summary": "2 of 5 charts unsigned",
        "record": "SC-2026-12",
    }
    data.update(overrides)
    return data


def head(site: Site) -> int:
    return site.usecases.ledger.head_size()


def test_a_spot_check_recorded_through_the_form_is_stored_as_the_account_recorded_it(site: Site) -> None:
    client = site.signed_in("Dee Deputy", role="deputy_manager", rights=("view", "record"))
    page, csrf, event_id = form_page(client, f"{BASE}/record/SpotCheckRecorded")
    # Check the form offers the service's themes and teams, and asks for no actor or time.
    assert 'value="medicines.mar_charts"' in page and '<option value="north"' in page
    assert "actor_id" not in page and "recorded_at" not in page
    before = head(site)
    response = client.post(
        f"{BASE}/record/SpotCheckRecorded", data={**spot_check_form(), "csrf_token": csrf, "event_id": event_id}
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"{BASE}/entries/{event_id}?notice=recorded"
    assert head(site) == before + 1
    stored = site.usecases.house.usecases.stored_event(event_id)
    assert stored is not None
    user = site.accounts.get_user("Dee Deputy")
    assert (stored["actor_id"], stored["actor_role"]) == (user.staff_id, "deputy_manager")
    assert stored["ledger"]["source"] == "live:web"
    assert stored["recorded_at"] == stored["ledger"]["appended_at"] == stored["observed_at"]
    assert stored["payload"] == {
        "evidence_score": 2,
        "evidence_category": "observation",
        "source_type": "spot_check",
        "summary": "2 of 5 charts unsigned",
    }
    assert (stored["theme"], stored["team"], stored["record"]) == ("medicines.mar_charts", "north", "SC-2026-12")
    entry = client.get(response.headers["location"])
    assert entry.status_code == 200 and "2 of 5 charts unsigned" in entry.text and "Recorded." in entry.text
    assert [r["detail"]["event_id"] for r in site.log_rows("recorded")] == [event_id]


def test_every_problem_is_shown_next_to_its_field_and_nothing_is_written(site: Site) -> None:
    client = site.signed_in("Dee Deputy", role="deputy_manager", rights=("view", "record"))
    _, csrf, event_id = form_page(client, f"{BASE}/record/SpotCheckRecorded")
    before, log_before = head(site), len(site.events())
    bad = spot_check_form(
        **{
            "theme": "medicines.no_such_theme",
            "payload.summary": "",
            "payload.items_checked": "20",
            "payload.items_compliant": "15",
            "payload.evidence_score": "4",
            "observed_at": "yesterday",
        }
    )
    response = client.post(f"{BASE}/record/SpotCheckRecorded", data={**bad, "csrf_token": csrf, "event_id": event_id})
    assert response.status_code == 400
    text = response.text
    for name in ("theme", "payload.summary", "payload.evidence_score", "observed_at"):
        assert f'id="{name}-error"' in text, name
        assert f'<a href="#{name}">' in text, name
    # Check the band disagreement is explained: 15 of 20 is 75%, band 3.
    assert "75.0% is in CQC band 3" in text and "not 4" in text
    # Check the values typed are kept, and the same event id is offered again.
    assert 'value="20"' in text and f'value="{event_id}"' in text
    assert head(site) == before
    assert site.events()[log_before:] == []


def test_counted_items_give_the_percentage_and_the_score_band(site: Site) -> None:
    client = site.signed_in("Dee Deputy", role="deputy_manager", rights=("view", "record"))
    _, csrf, event_id = form_page(client, f"{BASE}/record/SpotCheckRecorded")
    data = spot_check_form(
        **{"payload.evidence_score": "", "payload.items_checked": "8", "payload.items_compliant": "7"}
    )
    response = client.post(f"{BASE}/record/SpotCheckRecorded", data={**data, "csrf_token": csrf, "event_id": event_id})
    assert response.status_code == 303, response.text
    stored = site.usecases.house.usecases.stored_event(event_id)
    assert stored is not None
    assert (stored["payload"]["compliance_pct"], stored["payload"]["evidence_score"]) == (87.5, 3)


def test_a_form_posted_twice_records_the_event_once(site: Site) -> None:
    client = site.signed_in("Dee Deputy", role="deputy_manager", rights=("view", "record"))
    _, csrf, event_id = form_page(client, f"{BASE}/record/SpotCheckRecorded")
    data = {**spot_check_form(), "csrf_token": csrf, "event_id": event_id}
    first = client.post(f"{BASE}/record/SpotCheckRecorded", data=data)
    site.clock.advance(seconds=5)
    before = head(site)
    again = client.post(f"{BASE}/record/SpotCheckRecorded", data=data)
    assert first.status_code == again.status_code == 303
    assert again.headers["location"].endswith("?notice=already")
    assert head(site) == before
    # Check the same id with other content is refused under the field, not recorded.
    changed = client.post(f"{BASE}/record/SpotCheckRecorded", data={**data, "payload.summary": "something else"})
    assert changed.status_code == 400 and "already stored with different content" in changed.text
    assert head(site) == before
    assert [r["event"] for r in site.log_rows() if r["event"].startswith("record")] == ["recorded", "record_repeated"]


def test_a_form_offers_only_the_accounts_service_and_refuses_another(site: Site) -> None:
    client = site.signed_in("Dee Deputy", role="deputy_manager", rights=("view", "record"))
    other = "/services/" + tilde_encode(OTHER) + "/record/SpotCheckRecorded"
    assert client.get(other).status_code == 403
    csrf = site.csrf(client, "/account")
    before = head(site)
    assert client.post(other, data={**spot_check_form(), "csrf_token": csrf, "event_id": "X-1"}).status_code == 403
    assert head(site) == before


def test_a_stored_script_in_a_summary_is_shown_as_text(site: Site) -> None:
    client = site.signed_in("Dee Deputy", role="deputy_manager", rights=("view", "record"))
    _, csrf, event_id = form_page(client, f"{BASE}/record/SpotCheckRecorded")
    data = {**spot_check_form(**{"payload.summary": SCRIPT}), "csrf_token": csrf, "event_id": event_id}
    response = client.post(f"{BASE}/record/SpotCheckRecorded", data=data)
    page = client.get(response.headers["location"]).text
    assert SCRIPT not in page and "&lt;script&gt;" in page


def test_withdrawing_needs_a_reason_and_then_offers_the_correction(site: Site) -> None:
    client = site.signed_in("Dee Deputy", role="deputy_manager", rights=("view", "record"))
    _, csrf, event_id = form_page(client, f"{BASE}/record/SpotCheckRecorded")
    client.post(
        f"{BASE}/record/SpotCheckRecorded", data={**spot_check_form(), "csrf_token": csrf, "event_id": event_id}
    )
    _page, csrf, withdrawal_id = form_page(client, f"{BASE}/entries/{event_id}/withdraw")
    before = head(site)
    blank = client.post(
        f"{BASE}/entries/{event_id}/withdraw", data={"csrf_token": csrf, "event_id": withdrawal_id, "reason": " "}
    )
    assert blank.status_code == 400 and 'id="reason-error"' in blank.text
    assert head(site) == before
    done = client.post(
        f"{BASE}/entries/{event_id}/withdraw",
        data={"csrf_token": csrf, "event_id": withdrawal_id, "reason": "entered against the wrong round"},
    )
    assert done.status_code == 303 and done.headers["location"].endswith("?notice=withdrawn")
    withdrawal = site.usecases.house.usecases.stored_event(withdrawal_id)
    assert withdrawal is not None and withdrawal["kind"] == "EntryWithdrawn"
    assert withdrawal["payload"] == {"withdraws": event_id, "reason": "entered against the wrong round"}
    entry = client.get(f"{BASE}/entries/{event_id}").text
    assert "Withdrawn" in entry and "entered against the wrong round" in entry
    assert f"/record/SpotCheckRecorded?corrects={event_id}" in entry
    # Check a second withdrawal is refused, and the correction starts from the withdrawn entry.
    assert client.get(f"{BASE}/entries/{event_id}/withdraw").status_code == 400
    form, csrf, correction_id = form_page(client, f"{BASE}/record/SpotCheckRecorded?corrects={event_id}")
    assert "2 of 5 charts unsigned" in form and "This corrects a withdrawn entry" in form
    fixed = spot_check_form(**{"team": "south"})
    response = client.post(
        f"{BASE}/record/SpotCheckRecorded?corrects={event_id}",
        data={**fixed, "csrf_token": csrf, "event_id": correction_id},
    )
    assert response.status_code == 303, response.text
    correction = site.usecases.house.usecases.stored_event(correction_id)
    assert correction is not None and correction["payload"]["corrects"] == event_id and correction["team"] == "south"
    assert "Corrected by" in client.get(f"{BASE}/entries/{event_id}").text


def test_an_amendment_changes_only_the_fields_changed_and_explains_a_band_disagreement(site: Site) -> None:
    client = site.signed_in("Dee Deputy", role="deputy_manager", rights=("view", "record"))
    _, csrf, event_id = form_page(client, f"{BASE}/record/SpotCheckRecorded")
    data = spot_check_form(
        **{"payload.items_checked": "20", "payload.items_compliant": "15", "payload.evidence_score": "3"}
    )
    client.post(f"{BASE}/record/SpotCheckRecorded", data={**data, "csrf_token": csrf, "event_id": event_id})
    page, csrf, amend_id = form_page(client, f"{BASE}/entries/{event_id}/amend")
    assert 'value="75.0"' in page
    before = head(site)
    values = {
        "payload.evidence_score": "3",
        "payload.evidence_category": "observation",
        "payload.source_type": "spot_check",
    }
    values |= {
        "payload.summary": "2 of 5 charts unsigned",
        "payload.items_checked": "20",
        "payload.items_compliant": "9",
    }
    values |= {"payload.compliance_pct": "45.0", "reason": "recounted"}
    wrong = client.post(f"{BASE}/entries/{event_id}/amend", data={**values, "csrf_token": csrf, "event_id": amend_id})
    assert wrong.status_code == 400 and "45.0% is in CQC band 2" in wrong.text
    assert head(site) == before
    values["payload.evidence_score"] = "2"
    done = client.post(f"{BASE}/entries/{event_id}/amend", data={**values, "csrf_token": csrf, "event_id": amend_id})
    assert done.status_code == 303, done.text
    amendment = site.usecases.house.usecases.stored_event(amend_id)
    assert amendment is not None
    assert amendment["payload"] == {
        "amends": event_id,
        "changes": {"evidence_score": 2, "items_compliant": 9, "compliance_pct": 45.0},
        "reason": "recounted",
    }


def test_a_judgement_form_shows_the_judgement_it_replaces_and_needs_the_judge_right(site: Site) -> None:
    recorder = site.signed_in("Dee Deputy", role="deputy_manager", rights=("view", "record"))
    assert recorder.get(f"{BASE}/judge/JudgementRevised?theme=safeguarding").status_code == 403
    assert "/judge/" not in recorder.get(f"{BASE}/record").text
    client = site.signed_in("Rita Manager", role="registered_manager", rights=("view", "record", "judge"))
    current = site.usecases.vocabulary(SERVICE).judgements["safeguarding"]
    page, csrf, event_id = form_page(client, f"{BASE}/judge/JudgementRevised?theme=safeguarding")
    assert current["event_id"] in page and "The judgement it replaces" in page
    data = {
        "csrf_token": csrf,
        "event_id": event_id,
        "supersedes": current["event_id"],
        "payload.score": "3",
        "payload.confidence": "qualified",
        "payload.narrative": "Safe overall; east round referrals still late",
        "payload.exceptions.0.scope": "team:east",
        "payload.exceptions.0.score": "2",
        "payload.exceptions.0.note": "referrals still late",
        "payload.exceptions.1.score": "",
    }
    response = client.post(f"{BASE}/judge/JudgementRevised?theme=safeguarding", data=data)
    assert response.status_code == 303, response.text
    stored = site.usecases.house.usecases.stored_event(event_id)
    assert stored is not None and stored["theme"] == "safeguarding"
    assert stored["payload"]["supersedes"] == current["event_id"]
    assert stored["payload"]["exceptions"] == [
        {"theme": None, "scope": "team:east", "score": 2, "note": "referrals still late"}
    ]
    # Check a form opened before that judgement is refused: it would replace the wrong one.
    stale = client.post(f"{BASE}/judge/JudgementRevised?theme=safeguarding", data={**data, "event_id": "J-STALE"})
    assert stale.status_code == 400 and "A newer judgement" in stale.text


def test_every_kind_on_the_record_page_has_a_form_that_renders(site: Site) -> None:
    from insightlog.web import kindforms

    client = site.signed_in("Rita Manager", role="registered_manager", rights=("view", "record", "judge"))
    index = client.get(f"{BASE}/record").text
    for kind in kindforms.kinds_on_record_page():
        door = "judge" if kind in kindforms.JUDGEMENT_KINDS else "record"
        assert f"{BASE}/{door}/{kind}" in index, kind
        suffix = "?theme=safeguarding" if door == "judge" else ""
        page = client.get(f"{BASE}/{door}/{kind}{suffix}")
        assert page.status_code == 200, (kind, page.text[:300])
        assert kindforms.TITLES[kind].replace("'", "&#39;") in page.text


def test_a_record_form_without_its_csrf_token_is_refused_and_nothing_is_written(site: Site) -> None:
    client = site.signed_in("Dee Deputy", role="deputy_manager", rights=("view", "record"))
    _, csrf, event_id = form_page(client, f"{BASE}/record/SpotCheckRecorded")
    before = head(site)
    for token in (None, "wrong", csrf[:-1]):
        data = {**spot_check_form(), "event_id": event_id, **({"csrf_token": token} if token else {})}
        assert client.post(f"{BASE}/record/SpotCheckRecorded", data=data).status_code == 403
    assert client.post(f"{BASE}/entries/HHC-032/withdraw", data={"reason": "x", "event_id": "W-1"}).status_code == 403
    assert head(site) == before
    assert [r["event"] for r in site.log_rows() if r["event"] == "csrf_refused"] == ["csrf_refused"] * 4
