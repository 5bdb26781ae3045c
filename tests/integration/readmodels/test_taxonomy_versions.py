"""Versioned taxonomies: shipped SAF-2024, versions added from CSV, and warnings on import."""

from __future__ import annotations

import json
from typing import Any

import pytest

from insightlog.application.taxonomy import add_taxonomy, import_warnings, load_taxonomies
from insightlog.interchange.validation import parse_line
from insightlog.taxonomies import (
    TaxonomyConflictError,
    TaxonomyError,
    parse_csv,
    unknown_statements,
    version_name,
    version_of_service,
)
from tests.helpers import invoke, write_jsonl
from tests.integration.readmodels.conftest import SERVICE, harbour_objects, harbour_text

NEW_CSV = 'id,key_question,quality_statement\nN1,Safe,Newly safe\nN2,Well-led,"Leading, together"\n'


def cli_args(settings: Any) -> list[str]:
    return ["--db", settings.sqlite_path] if settings.sqlite_path else ["--database-url", settings.database_url]


def test_shipped_saf_2024_is_listed_with_its_34_statements(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = invoke(["--db", str(tmp_path / "t.sqlite"), "taxonomy", "--json"])

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [
        {
            "name": "SAF-2024",
            "statements": 34,
            "key_questions": ["Safe", "Effective", "Caring", "Responsive", "Well-led"],
            "source": "shipped",
        }
    ]
    shown = json.loads(invoke(["--db", str(tmp_path / "t.sqlite"), "taxonomy", "show", "SAF-2024", "--json"]).stdout)
    assert shown["statements"][7] == {"id": "S8", "key_question": "Safe", "quality_statement": "Medicines optimisation"}


def test_a_version_added_from_csv_is_stored_in_the_ledger_and_listed(store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "saf-2026.csv"
    path.write_text(NEW_CSV)

    result = invoke([*cli_args(store), "taxonomy", "add", "SAF-2026", str(path)])

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("added taxonomy SAF-2026: 2 quality statements")
    listed = json.loads(invoke([*cli_args(store), "taxonomy", "--json"]).stdout)
    assert [(r["name"], r["statements"], r["source"]) for r in listed] == [
        ("SAF-2024", 34, "shipped"),
        ("SAF-2026", 2, "ledger"),
    ]
    # Check adding the same content again is a no-op and different content an error.
    again = invoke([*cli_args(store), "taxonomy", "add", "SAF-2026", str(path)])
    assert "already loaded with the same content" in again.stdout
    path.write_text(NEW_CSV.replace("Newly safe", "Changed"))
    clash = invoke([*cli_args(store), "taxonomy", "add", "SAF-2026", str(path)])
    assert clash.exit_code == 1
    assert "already added with different content" in clash.output


def test_a_shipped_version_cannot_be_replaced(ledger_factory) -> None:  # type: ignore[no-untyped-def]
    ledger = ledger_factory()

    with pytest.raises(TaxonomyConflictError, match="shipped"):
        add_taxonomy(ledger, "SAF-2024", NEW_CSV)
    assert set(load_taxonomies(ledger)) == {"SAF-2024"}


@pytest.mark.parametrize(
    "text, message",
    [
        ("id,key_question\nS1,Safe\n", "line 1: the header must be exactly id,key_question,quality_statement"),
        ("id,key_question,quality_statement\nS1,Safe,One\nS2,Safe\n", "line 3: expected 3 fields"),
        (
            "id,key_question,quality_statement\nS1,Safe,One\nS1,Safe,Two\n",
            "line 3: id 'S1' is already listed on line 2",
        ),
        ("id,key_question,quality_statement\nS1,,One\n", "line 2: field 'key_question' is empty"),
        ("id,key_question,quality_statement\n", "no quality statements"),
        ("", "empty file"),
    ],
)
def test_a_bad_csv_is_refused_with_an_error_naming_the_line(text: str, message: str) -> None:
    with pytest.raises(TaxonomyError, match=message):
        parse_csv(text, origin="new.csv")


def test_a_bad_csv_line_is_a_one_line_cli_error_and_nothing_is_added(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.csv"
    path.write_text("id,key_question,quality_statement\nS1,Safe,One\nS2,Safe\n")
    db = str(tmp_path / "t.sqlite")

    result = invoke(["--db", db, "taxonomy", "add", "NEW", str(path)])

    assert result.exit_code == 1
    assert (
        result.output.strip() == "Error: bad.csv line 3: expected 3 fields (id,key_question,quality_statement), found 2"
    )
    assert "NEW" not in invoke(["--db", db, "taxonomy"]).stdout


def test_a_version_name_must_be_one_word() -> None:
    with pytest.raises(TaxonomyError, match="one word"):
        from insightlog.taxonomies import check_name

        check_name("SAF 2026")


@pytest.mark.parametrize(
    "text, name", [("SAF-2024 (34 quality statements)", "SAF-2024"), ("SAF-2024", "SAF-2024"), ("", None), (None, None)]
)
def test_a_services_version_is_the_first_word_of_its_taxonomy_version(text: Any, name: str | None) -> None:
    assert version_name(text) == name


def drafts(objects: list[dict[str, Any]]) -> list[Any]:
    return [parse_line(json.dumps(o), i) for i, o in enumerate(objects, start=1)]


def test_unknown_statements_warn_naming_the_event_and_statement() -> None:
    objects = harbour_objects()
    objects[2]["payload"]["quality_statements"] = ["S8", "W99"]
    items = drafts(objects[:8])

    warnings = unknown_statements(items, load_taxonomies())

    assert version_of_service(items) == "SAF-2024"
    assert warnings == [
        "event HHC-003: theme 'medicines.mar_charts' names quality statement 'W99', which taxonomy SAF-2024 lacks"
    ]
    assert unknown_statements(drafts(harbour_objects()), load_taxonomies()) == []


def test_a_service_on_a_version_not_loaded_gets_one_warning() -> None:
    objects = harbour_objects()[:8]
    objects[0]["payload"]["framework"]["taxonomy_version"] = "SAF-2031 (draft)"

    warnings = unknown_statements(drafts(objects), load_taxonomies())

    assert len(warnings) == 1
    assert warnings[0].startswith(
        "event HHC-001: service 'Harbour Home Care' uses taxonomy SAF-2031, which is not loaded"
    )


def test_import_warnings_use_the_stored_registration_of_a_service(ledger_factory) -> None:  # type: ignore[no-untyped-def]
    ledger = ledger_factory()
    ledger.import_lines(harbour_text()[:1], source_name="registration.jsonl")
    later = harbour_objects()[1:3]
    later[1]["payload"]["quality_statements"] = ["Q1"]

    assert import_warnings(ledger, drafts(later)) == [
        "event HHC-003: theme 'medicines.mar_charts' names quality statement 'Q1', which taxonomy SAF-2024 lacks"
    ]


def test_adding_a_version_updates_the_key_questions_of_services_that_use_it(make_store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = make_store()
    objects = harbour_objects()
    objects[0]["payload"]["framework"]["taxonomy_version"] = "SAF-2026 (2 statements)"
    for o in objects:
        if o["kind"] == "ThemeDefined":
            o["payload"]["quality_statements"] = ["N2"]
    store.ledger.import_lines(
        write_jsonl(tmp_path / "h.jsonl", objects).read_text().splitlines(), source_name="h.jsonl"
    )
    assert {r["key_question"] for r in store.models.governance(SERVICE).rows} == {None}

    add_taxonomy(store.ledger, "SAF-2026", NEW_CSV)

    assert {r["key_question"] for r in store.models.governance(SERVICE).rows} == {"Well-led"}


def test_copying_taxonomies_carries_provider_versions_to_another_store(ledger_factory) -> None:  # type: ignore[no-untyped-def]
    from insightlog.application.taxonomy import copy_taxonomies

    source, target = ledger_factory(), ledger_factory()
    add_taxonomy(source, "SAF-2026", NEW_CSV)

    assert copy_taxonomies(source, target) == ["SAF-2026"]
    assert copy_taxonomies(source, target) == []
    assert load_taxonomies(target)["SAF-2026"].digest == load_taxonomies(source)["SAF-2026"].digest


def test_a_read_only_store_refuses_to_add_a_version(store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "saf-2026.csv"
    path.write_text(NEW_CSV)
    invoke([*cli_args(store), "init"])

    result = invoke(["--read-only", *cli_args(store), "taxonomy", "add", "SAF-2026", str(path)])

    assert result.exit_code == 1
    assert "read-only" in result.output and len(result.output.strip().splitlines()) == 1
