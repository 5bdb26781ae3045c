"""The ledger application: records, imports and reads the immutable history of services."""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, cast
from uuid import UUID

import orjson
from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.persistence import (
    IntegrityError,
    Mapper,
    Notification,
    OperationalError,
    ProgrammingError,
    StoredEvent,
    Transcoder,
)
from eventsourcing.utils import get_topic

from insightlog.errors import ConflictError, LedgerError, ReadOnlyError, ServiceNotFoundError
from insightlog.aggregates.service import EventKey, LedgerHead, RecordedOrderError, ServiceLedger, ThemeCycleError
from insightlog.interchange.entry import ENVELOPE_FIELDS, Entry
from insightlog.gcpause import cyclic_gc_paused
from insightlog.application.references import KeyInfo, ReferenceCheck
from insightlog.interchange.validation import Draft, LineError, parse_line, validate_object
from insightlog.storage.mapper import OrjsonTranscoder, PydanticMapper
from insightlog.proof.canonical import fields_leaf_object, leaf_hash, leaf_hash_of_bytes, leaf_object_bytes
from insightlog.interchange.timeutil import format_utc

if TYPE_CHECKING:
    from insightlog.storage.backend import Backend

UTC = timezone.utc
ENTRY_TOPIC = get_topic(ServiceLedger.EntryAppended)
OPENED_TOPIC = get_topic(ServiceLedger.Opened)
PAGE = 1000
MAX_ATTEMPTS = 10
BACKOFF_FIRST = 0.005  # seconds before the first retry; doubles each time, with full jitter
BACKOFF_CAP = 0.25


def system_clock() -> datetime:
    return datetime.now(tz=UTC)


@dataclass
class Receipt:
    """What the ledger returns for each stored event."""

    event_id: str
    service: str
    position: int
    appended_at: str
    source: str
    leaf_hash: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "service": self.service,
            "position": self.position,
            "appended_at": self.appended_at,
            "source": self.source,
            "leaf_hash": self.leaf_hash,
        }


@dataclass
class AppendResult:
    """The outcome of one atomic append: new receipts, and the ids skipped as already stored."""

    receipts: list[Receipt] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    services: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


LIVE = "live"
DOORS = ("web", "api")


def live_source(door: str | None) -> str:
    """The source of a live event: ``live`` from the command line, ``live:<door>`` from another door."""
    if door is None or door == "cli":
        return LIVE
    if door not in DOORS:
        raise ValueError(f"unknown door {door!r} (one of cli, {', '.join(DOORS)})")
    return f"{LIVE}:{door}"


def live_draft(obj: dict[str, Any], now: datetime) -> Draft:
    """Validate a live event stamped with the ledger's time (``observed_at`` defaults to it)."""
    stamped = dict(obj)
    stamped["recorded_at"] = format_utc(now)
    if stamped.get("observed_at") is None:
        stamped["observed_at"] = stamped["recorded_at"]
    return validate_object(stamped)


def content_digest(fields: dict[str, Any]) -> str:
    """Digest of an event's interchange content (key order does not matter)."""
    return hashlib.sha256(orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _parse_ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def entry_from_state(state: dict[str, Any]) -> Entry:
    """Build an Entry from the stored state of an ``EntryAppended`` event: its envelope fields in
    ``ENVELOPE_FIELDS`` order (the order of ``Entry``'s first fields), then its ledger provenance.
    Positional and by one ``itemgetter``: this runs for every entry read."""
    values = list(_ENVELOPE_VALUES(state["entry"]))
    values[_OBSERVED_AT] = _parse_ts(values[_OBSERVED_AT])
    values[_RECORDED_AT] = _parse_ts(values[_RECORDED_AT])
    values += (state["position"], _parse_ts(state["appended_at"]), state["source"])
    return Entry(*values)


_ENVELOPE_VALUES = itemgetter(*ENVELOPE_FIELDS)
_OBSERVED_AT = ENVELOPE_FIELDS.index("observed_at")
_RECORDED_AT = ENVELOPE_FIELDS.index("recorded_at")


def interchange_fields(entry: Entry) -> dict[str, Any]:
    """The 13 interchange fields of an entry, in the canonical order."""
    return entry.interchange()


class Ledger(Application):  # type: ignore[type-arg]
    """The insightlog event-sourced application."""

    name = "insightlog"
    snapshotting_intervals = {ServiceLedger: 100, LedgerHead: 50}  # noqa: RUF012

    def __init__(
        self,
        env: dict[str, str] | None = None,
        clock: Callable[[], datetime] = system_clock,
        backend: Backend | None = None,
    ) -> None:
        super().__init__(env)
        self.clock = clock
        self.backend = backend or _backend_of(self.env.get("PERSISTENCE_MODULE") or "eventsourcing.popo")
        self.read_only = False
        self.read_only_reason: str | None = None  # why, when not the user's choice (an auditor role)

    def construct_mapper(self) -> Mapper:  # type: ignore[type-arg]
        return self.factory.mapper(transcoder=self.construct_transcoder(), mapper_class=PydanticMapper)

    def construct_transcoder(self) -> Transcoder:
        return OrjsonTranscoder()

    # ------------------------------------------------------------------ writing

    def now(self) -> datetime:
        """The ledger clock, in whole seconds UTC."""
        return self.clock().astimezone(UTC).replace(microsecond=0)

    def check_writable(self) -> None:
        """Refuse any write on a store opened read-only."""
        if self.read_only:
            raise ReadOnlyError(
                self.read_only_reason or "this store is open read-only (--read-only / INSIGHTLOG_READ_ONLY); nothing was written"
            )

    def record(self, obj: dict[str, Any], *, door: str | None = None) -> AppendResult:
        """Record one event live: ``recorded_at`` is the ledger's clock, never the caller's.

        The clock is read in each attempt after the head is loaded, so a live event is never
        stamped earlier than one a concurrent writer committed before it. ``door`` names where it
        came in besides the command line (``web``, ``api``): the source is then ``live:<door>``,
        and the entry differs from the same event recorded by ``insightlog record`` in that alone.
        """
        self.check_writable()
        if obj.get("recorded_at") is not None:
            raise LineError(None, obj.get("event_id"), "recorded_at", "is stamped by the ledger when recording live; do not supply it")
        return self.append([], source=live_source(door), backfill=False, appended_at=None, live=obj)

    # A bulk import allocates millions of small acyclic objects (freed by reference counting);
    # with the cyclic collector paused it does not walk the growing heap again and again.
    @cyclic_gc_paused()
    def import_lines(
        self,
        lines: Iterable[bytes | str],
        *,
        source_name: str,
        backfill: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> AppendResult:
        """Validate a whole interchange file, then append it atomically (all or nothing)."""
        self.check_writable()
        drafts: list[tuple[int | None, Draft]] = []
        previous: datetime | None = None
        now = self.now()
        for number, raw in enumerate(lines, start=1):
            if isinstance(raw, bytes):
                raw = raw.decode("utf-8")
            if not raw.strip():
                continue
            draft = parse_line(raw, number)
            if draft.recorded_at > now:
                raise LineError(number, draft.event_id, "recorded_at", "lies in the future")
            if previous is not None and draft.recorded_at < previous:
                raise LineError(number, draft.event_id, "recorded_at", f"is earlier than the previous line's ({format_utc(previous)}); a file is in recorded order")
            previous = draft.recorded_at
            drafts.append((number, draft))
            if progress is not None:
                progress(number)
        source = f"{'backfill' if backfill else 'import'}:{source_name}"
        result = self.append(drafts, source=source, backfill=backfill, appended_at=now)
        from insightlog.application.taxonomy import import_warnings

        result.warnings = import_warnings(self, [d for _, d in drafts])
        return result

    def append(
        self,
        drafts: list[tuple[int | None, Draft]],
        *,
        source: str,
        backfill: bool,
        appended_at: datetime | None,
        live: dict[str, Any] | None = None,
    ) -> AppendResult:
        """Append validated drafts in one transaction, one writer at a time (``writer_lock``).

        A conflict (a writer that did not take the lock) is retried with jittered exponential
        backoff; a live event is restamped in each attempt.
        """
        from insightlog.storage.writelock import writer_lock

        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                with writer_lock(self):
                    return self._append_once(drafts, source=source, backfill=backfill, appended_at=appended_at, live=live)
            except (OperationalError, ProgrammingError) as exc:
                from insightlog.storage.guards import write_refusal

                reason = write_refusal(exc)
                if reason is None:
                    raise
                raise ReadOnlyError(f"the database refused the write ({reason}); nothing was written") from None
            except IntegrityError:
                if attempt == MAX_ATTEMPTS:
                    raise ConflictError(
                        f"the ledger was being written by others; gave up after {MAX_ATTEMPTS} attempts (nothing was written)"
                    ) from None
                time.sleep(random.uniform(0, min(BACKOFF_CAP, BACKOFF_FIRST * 2 ** (attempt - 1))))
        raise AssertionError("unreachable")  # pragma: no cover

    def _find_key(self, event_id: str) -> KeyInfo | None:
        """The stored key of an event id: one indexed read of its first (and only) event."""
        stored = self.recorder.select_events(EventKey.create_id(event_id), limit=1)
        if not stored:
            return None
        state = self.decode(stored[0])
        return KeyInfo(state["service"], state["kind"], state["digest"], None, state["position"])

    def _append_once(
        self,
        drafts: list[tuple[int | None, Draft]],
        *,
        source: str,
        backfill: bool,
        appended_at: datetime | None,
        live: dict[str, Any] | None = None,
    ) -> AppendResult:
        result = AppendResult()
        head = self._get_or_none(LedgerHead.create_id()) or LedgerHead(origin=new_origin())
        if live is not None:
            # Read the clock after the head: every write this one does not conflict with is
            # already visible here, and was stamped no later than now.
            appended_at = self.now()
            drafts = [(None, live_draft(live, appended_at))]
        if appended_at is None:
            raise ValueError("appended_at is required unless recording live")
        services: dict[str, ServiceLedger] = {}
        keys: list[EventKey.Registered] = []
        batch: dict[str, KeyInfo] = {}
        empty_store = head.size == 0  # nothing stored yet: only the batch can hold an id
        appended_text = format_utc(appended_at)
        position = head.size
        leaves: list[bytes] = []
        references = ReferenceCheck(self._find_key, self.entries_newest_first, batch, empty_store, backfill)
        for line, draft in drafts:
            fields = draft.interchange()
            digest = content_digest(fields)
            known = batch.get(draft.event_id)
            if known is None and not empty_store:
                known = self._find_key(draft.event_id)
            if known is not None:
                if known.digest == digest:
                    result.skipped.append(draft.event_id)
                    continue
                raise LineError(line, draft.event_id, "event_id", "is already stored with different content (corrections are new events)")
            ledger = services.get(draft.service)
            if ledger is None:
                ledger = self._get_or_none(ServiceLedger.create_id(draft.service)) or ServiceLedger(draft.service)
                services[draft.service] = ledger
            references.check(line, draft, ledger)
            position += 1
            try:
                ledger.append(fields, position=position, appended_at=appended_at, source=source, backfill=backfill)
            except RecordedOrderError as exc:
                raise LineError(line, draft.event_id, "recorded_at", str(exc)) from None
            except ThemeCycleError as exc:
                raise LineError(line, draft.event_id, "payload.parent", str(exc)) from None
            leaf = leaf_hash_of_bytes(leaf_object_bytes(fields_leaf_object(fields, position, appended_text, source)))
            leaves.append(leaf)
            keys.append(EventKey.registration(event_id=draft.event_id, service=draft.service, kind=draft.kind, digest=digest, position=position, leaf_hash=leaf.hex()))
            batch[draft.event_id] = KeyInfo(draft.service, draft.kind, digest, draft)
            references.admit(draft)
            result.receipts.append(Receipt(draft.event_id, draft.service, position, appended_text, source, leaf.hex()))
        if result.receipts:
            head.extend(leaves)
            self._save_in_position_order(head, *services.values(), *keys)
        result.services = sorted(services)
        return result

    def append_preserved(self, entries: list[Entry], origin: str) -> None:
        """Append entries copied from another store, keeping position, append time and source.

        Used by migration; positions must continue this store's head exactly, and the log keeps
        the source's ``origin`` so its checkpoints stay valid.
        """
        self.check_writable()
        head = self._get_or_none(LedgerHead.create_id()) or LedgerHead(origin=origin)
        if head.origin != origin:
            raise LedgerError(f"this store is log {head.origin}, not {origin}")
        services: dict[str, ServiceLedger] = {}
        keys = []
        leaves: list[bytes] = []
        for entry in entries:
            if entry.position != head.size + len(keys) + 1:
                raise LedgerError(f"position {entry.position} does not continue this store (size {head.size + len(keys)})")
            fields = interchange_fields(entry)
            ledger = services.get(entry.service)
            if ledger is None:
                ledger = self._get_or_none(ServiceLedger.create_id(entry.service)) or ServiceLedger(entry.service)
                services[entry.service] = ledger
            if entry.appended_at is None:
                raise LedgerError(f"entry {entry.event_id} has no append time to preserve")
            ledger.append(fields, position=entry.position, appended_at=entry.appended_at, source=entry.source, backfill=True)
            leaf = leaf_hash(entry)
            leaves.append(leaf)
            keys.append(EventKey.registration(event_id=entry.event_id, service=entry.service, kind=entry.kind, digest=content_digest(fields), position=entry.position, leaf_hash=leaf.hex()))
        head.extend(leaves)
        self._save_in_position_order(head, *services.values(), *keys)

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        """Snapshot from the aggregates in memory (the library re-reads them from the database).

        An aggregate whose new events crossed its snapshotting interval is snapshotted once, at
        its current version.
        """
        if not self.snapshots:
            return
        crossed: dict[UUID, Any] = {}
        for event in processing_event.events:
            aggregate = processing_event.aggregates.get(event.originator_id)
            interval = self.snapshotting_intervals.get(type(aggregate)) if aggregate is not None else None
            if interval and event.originator_version % interval == 0:
                crossed[event.originator_id] = aggregate
        if crossed:
            self.snapshots.put([type(a).Snapshot.take(a) for a in crossed.values()])

    def _save_in_position_order(self, *aggregates: Any) -> None:
        """Like ``save``, but the log receives the entries in position order across services,
        each entry followed by its event key, so notification order and position order agree."""
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        # What ProcessingEvent.collect_events does, without its runtime Protocol checks (they
        # cost ~50 µs per object, more than storing the event): aggregates give their pending
        # events; event-key registrations are domain events already.
        for obj in aggregates:
            if isinstance(obj, EventKey.Registered):
                processing_event.events.append(obj)
            else:
                processing_event.events.extend(obj.collect_events())
                processing_event.aggregates[obj.id] = obj

        def order(event: Any) -> float:
            if isinstance(event, ServiceLedger.EntryAppended):
                return event.position
            if isinstance(event, EventKey.Registered):
                return event.position + 0.5
            return 0

        processing_event.events.sort(key=order)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)

    def _get_or_none(self, aggregate_id: UUID) -> Any:
        try:
            return self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None

    # ------------------------------------------------------------------ reading

    def head(self) -> LedgerHead | None:
        """The store-wide head (None for an empty store)."""
        return self._get_or_none(LedgerHead.create_id())

    def head_size(self) -> int:
        head = self.head()
        return head.size if head else 0

    def notifications(
        self, topics: Sequence[str] = (), after: int = 0, *, limit: int | None = None, page_size: int = PAGE
    ) -> Iterator[Notification]:
        """The notification log after position ``after``, in order, only ``topics`` (all if empty),
        at most ``limit`` notifications.

        The one reader of the log: every use case that walks it pages through here."""
        start = after + 1
        remaining = limit
        while remaining is None or remaining > 0:
            size = page_size if remaining is None else min(page_size, remaining)
            page = self.recorder.select_notifications(start, size, topics=topics)
            yield from page
            if len(page) < size:
                return
            if remaining is not None:
                remaining -= len(page)
            start = page[-1].id + 1

    def decode(self, stored: StoredEvent) -> dict[str, Any]:
        """The JSON state of a stored event or notification: the one decode path."""
        return cast(PydanticMapper, self.mapper).decode_state(stored)

    def services(self) -> list[str]:
        """Names of the services with at least one event, sorted."""
        return sorted(self.decode(n)["name"] for n in self.notifications([OPENED_TOPIC]))

    def service_entries(self, service: str) -> Iterator[Entry]:
        """A service's entries in append order (= position order)."""
        originator = ServiceLedger.create_id(service)
        version = 0
        found = False
        while True:
            page = self.recorder.select_events(originator, gt=version, limit=PAGE)
            for stored in page:
                found = True
                if stored.topic == ENTRY_TOPIC:
                    yield entry_from_state(self.decode(stored))
            if len(page) < PAGE:
                break
            version = page[-1].originator_version
        if not found:
            raise ServiceNotFoundError(f"no events of service {service!r} in this store")

    def service_entries_after(self, service: str, version: int) -> tuple[list[Entry], int]:
        """A service's entries stored after its aggregate's ``version`` (0: all), and the version
        of the last event read (``version`` itself when there is none): one indexed read when
        nothing is new."""
        originator = ServiceLedger.create_id(service)
        out: list[Entry] = []
        while True:
            page = self.recorder.select_events(originator, gt=version, limit=PAGE)
            for stored in page:
                if stored.topic == ENTRY_TOPIC:
                    out.append(entry_from_state(self.decode(stored)))
            if page:
                version = page[-1].originator_version
            if len(page) < PAGE:
                return out, version

    def entries_newest_first(self, service: str) -> Iterator[Entry]:
        """A service's entries newest first, read page by page only as far as the caller goes."""
        originator = ServiceLedger.create_id(service)
        lte: int | None = None
        while True:
            page = self.recorder.select_events(originator, lte=lte, desc=True, limit=PAGE)
            for stored in page:
                if stored.topic == ENTRY_TOPIC:
                    yield entry_from_state(self.decode(stored))
            if len(page) < PAGE or page[-1].originator_version <= 1:
                return
            lte = page[-1].originator_version - 1

    def first_position(self, service: str) -> int | None:
        """The position of a service's first entry (None if it has none): one indexed read."""
        for stored in self.recorder.select_events(ServiceLedger.create_id(service), gt=ServiceLedger.INITIAL_VERSION, limit=1):
            if stored.topic == ENTRY_TOPIC:
                return int(self.decode(stored)["position"])
        return None

    def read_service(self, service: str) -> list[Entry]:
        """All of a service's entries, in append order, as a list.

        The cyclic garbage collector is paused while they are read: a large service is hundreds of
        thousands of new objects, and each collection would walk them all again."""
        with cyclic_gc_paused():
            return list(self.service_entries(service))

    def all_entries(self) -> Iterator[Entry]:
        """Every entry of the store in position (log append) order, streamed page by page."""
        for n in self.notifications([ENTRY_TOPIC]):
            yield entry_from_state(self.decode(n))

    def has_event(self, event_id: str) -> bool:
        """Whether an event with this id is stored (one indexed read)."""
        return self._find_key(event_id) is not None

    def find_entry(self, event_id: str) -> Entry | None:
        """Look an event up by its id."""
        key = self._find_key(event_id)
        if key is None:
            return None
        for entry in self.service_entries(key.service):
            if entry.event_id == event_id:
                return entry
        return None


def _backend_of(persistence_module: str) -> Backend:
    """The backend of a ledger built from library settings alone (tests, workers)."""
    from insightlog.storage.backend import BY_PERSISTENCE_MODULE
    from insightlog.storage.settings import StoreSettings

    return BY_PERSISTENCE_MODULE[persistence_module](StoreSettings(memory=persistence_module == "eventsourcing.popo"))


def open_ledger(settings: Any, clock: Callable[[], datetime] = system_clock) -> Ledger:
    """Wire the application from resolved settings (guards installed unless read-only)."""
    from insightlog.storage.guards import install_guards

    ledger = Ledger(env=settings.library_env(), clock=clock, backend=settings.backend)
    ledger.read_only = settings.read_only
    if not settings.read_only:
        install_guards(ledger)
    return ledger


def read_file_lines(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        yield from fh


def write_export(ledger: Ledger, out: BinaryIO, *, service: str | None = None, with_provenance: bool = False) -> int:
    """Stream the interchange export; returns the number of lines written."""
    entries = ledger.service_entries(service) if service else ledger.all_entries()
    count = 0
    for entry in entries:
        fields = stored_event_dict(entry) if with_provenance else interchange_fields(entry)
        out.write(orjson.dumps(fields))
        out.write(b"\n")
        count += 1
    return count


def new_origin() -> str:
    """A new log's name in its checkpoints: fixed when its first entry is appended."""
    import uuid

    return f"insightlog/{uuid.uuid4()}"


def new_event_id(now: datetime) -> str:
    """A readable, unique id for a live event: ``il-<recorded time>-<random>``."""
    import secrets

    return f"il-{now.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(4)}"


def stored_event_dict(entry: Entry) -> dict[str, Any]:
    """An entry as stored: the interchange fields plus the ledger object of interchange.md
    (position, appended_at, source and the entry's leaf hash in the verifiable log)."""
    fields = interchange_fields(entry)
    fields["ledger"] = {
        "position": entry.position,
        "appended_at": format_utc(entry.appended_at) if entry.appended_at else None,
        "source": entry.source,
        "leaf_hash": leaf_hash(entry).hex(),
    }
    return fields
