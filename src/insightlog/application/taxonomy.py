"""Taxonomy versions in a ledger: loading, adding (immutable), import warnings, migration."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from insightlog.aggregates.taxonomy import Taxonomy, added_topic
from insightlog.taxonomies import (
    LEDGER,
    TaxonomyConflictError,
    TaxonomyError,
    TaxonomyVersion,
    _csv_line,
    _Event,
    _version,
    check_name,
    parse_csv,
    shipped_taxonomies,
    unknown_statements,
    version_from_state,
    version_of_service,
)

if TYPE_CHECKING:
    from insightlog.application.ledger import Ledger


def ledger_taxonomies(ledger: Ledger) -> dict[str, TaxonomyVersion]:
    """The versions a provider added to this ledger, in the order they were added."""
    found: dict[str, TaxonomyVersion] = {}
    for n in ledger.notifications([added_topic()]):
        state = ledger.decode(n)
        found[state["name"]] = version_from_state(state)
    return found


def load_taxonomies(ledger: Ledger | None = None) -> dict[str, TaxonomyVersion]:
    """Every loaded version by name: shipped ones, then those added to the ledger (if given)."""
    found = shipped_taxonomies()
    if ledger is not None:
        for name, version in ledger_taxonomies(ledger).items():
            found.setdefault(name, version)
    return found


def add_taxonomy(
    ledger: Ledger, name: str, csv_text: str, *, origin: str | None = None
) -> tuple[TaxonomyVersion, bool]:
    """Add a version to the ledger from CSV text; returns (version, added).

    ``added`` is False when the same name with the same content was already there (shipped or
    added). The same name with different content raises ``TaxonomyConflictError``.
    """
    from eventsourcing.application import AggregateNotFoundError
    from eventsourcing.persistence import IntegrityError

    check_name(name)
    statements = parse_csv(csv_text, origin=origin or f"taxonomy {name}")
    check_writable = getattr(ledger, "check_writable", None)
    if check_writable is not None:
        check_writable()
    version = _version(name, LEDGER, statements)
    shipped = shipped_taxonomies().get(name)
    if shipped is not None:
        if shipped.digest == version.digest:
            return shipped, False
        raise TaxonomyConflictError(
            f"taxonomy {name} is shipped with insightlog and differs from this CSV; choose another name"
        )
    for _ in range(2):
        try:
            stored: Taxonomy = ledger.repository.get(Taxonomy.create_id(name))
        except AggregateNotFoundError:
            aggregate = Taxonomy(name=name, statements=version.as_rows(), digest=version.digest)
            try:
                ledger.save(aggregate)
            except IntegrityError:
                continue  # added concurrently: compare with what was stored
            return version, True
        if stored.digest == version.digest:
            return version_from_state(
                {"name": stored.name, "statements": stored.statements, "digest": stored.digest}
            ), False
        raise TaxonomyConflictError(
            f"taxonomy {name} was already added with different content; a version never changes (add it under a new name)"
        )
    raise TaxonomyError(f"taxonomy {name}: could not be added (concurrent writers)")  # pragma: no cover


def stored_versions(ledger: Ledger, services: Iterable[str]) -> dict[str, str | None]:
    """The declared taxonomy version of each named service already in the ledger (None if none)."""
    from insightlog.errors import ServiceNotFoundError

    found: dict[str, str | None] = {}
    for service in services:
        try:
            found[service] = version_of_service(ledger.service_entries(service))
        except ServiceNotFoundError:
            found[service] = None
    return found


def import_warnings(ledger: Ledger, drafts: Iterable[_Event]) -> list[str]:
    """``unknown_statements`` for a batch about to be imported, with the ledger's loaded versions
    and the stored registrations of services the batch does not register."""
    drafts = list(drafts)
    registered = {d.service for d in drafts if d.kind == "ServiceRegistered"}
    themed = {d.service for d in drafts if d.kind == "ThemeDefined"} - registered
    return unknown_statements(drafts, load_taxonomies(ledger), known_versions=stored_versions(ledger, themed))


def copy_taxonomies(source: Ledger, target: Ledger) -> list[str]:
    """Add every provider-added version of ``source`` to ``target`` (for migrations); returns
    the names newly added. A name the target holds with different content raises."""
    added = []
    for name, version in ledger_taxonomies(source).items():
        csv_text = "id,key_question,quality_statement\n" + "".join(
            _csv_line(s.id, s.key_question, s.quality_statement) for s in version.statements
        )
        if add_taxonomy(target, name, csv_text)[1]:
            added.append(name)
    return added
