"""The governance view computed from the events of a ledger (no read models, no writes)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from insightlog.analysis.governance import governance_rows

if TYPE_CHECKING:
    from insightlog.analysis.basis import Basis
    from insightlog.application.ledger import Ledger
    from insightlog.interchange.timeutil import AsOf
    from insightlog.taxonomies import TaxonomyVersion


def view_from_events(
    ledger: Ledger,
    as_of: AsOf,
    service: str | None = None,
    taxonomies: Mapping[str, TaxonomyVersion] | None = None,
    basis: Basis | None = None,
) -> list[dict[str, Any]]:
    """The governance view computed from the events (no read models, no writes): one service or all."""
    from insightlog.application.taxonomy import load_taxonomies

    taxonomies = load_taxonomies(ledger) if taxonomies is None else taxonomies
    names = [service] if service is not None else ledger.services()
    rows: list[dict[str, Any]] = []
    for name in names:
        rows += governance_rows(ledger.service_entries(name), name, as_of, taxonomies, basis=basis)
    return rows
