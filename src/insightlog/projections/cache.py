"""The projection's entry cache: the entries phase 1 reads, kept by service for phase 2, so a
catch-up from the start reads each entry once (see ``GovernanceProjection._start_cache``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from insightlog.interchange.entry import Entry

CACHE_ENTRIES = 250_000  # entries a run keeps from phase 1 for phase 2 (about 1 KB each)


class EntryCache:
    """Entries read in phase 1, by service, for phase 2: those of services not in ``known`` (the
    services with status rows when the run began; None keeps nothing), valid up to ``complete``,
    the entry position of the last chunk written. Past ``limit`` entries, the service being added
    is dropped, and so is every service met after."""

    def __init__(self, known: set[str] | None = None, limit: int = 0) -> None:
        self.known = known
        self.limit = limit
        self.by_service: dict[str, list[Entry]] = {}
        self.dropped: set[str] = set()
        self.size = 0
        self.complete = 0

    def wants(self, service: str) -> bool:
        return self.known is not None and service not in self.known and service not in self.dropped

    def add(self, service: str, entry: Entry) -> None:
        if self.size >= self.limit:
            self.size -= len(self.by_service.pop(service, ()))
            self.dropped.add(service)
            return
        self.by_service.setdefault(service, []).append(entry)
        self.size += 1

    def entries(self, service: str, up_to: int) -> list[Entry] | None:
        found = self.by_service.get(service)
        if found is None or up_to > self.complete:
            return None
        return [e for e in found if e.position <= up_to]
