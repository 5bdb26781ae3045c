"""Every stored row, checked: what ``verify`` reads so that every read path reads only verified data.

The read paths do not all read the log the same way: history and analysis read a service's
aggregate stream (rows by originator id, in version order), prove and the write path read an
event's key row, the write path loads the head and each service from their latest snapshot, and
export, services, taxonomies and checkpoints read the notification log by topic. ``scan`` reads
both tables row by row, every column as stored (``storage/rawrows.py``), and holds each row to
exactly what the ledger writes (ADR 0017, docs/proof-format.md §8):

* the notification log is a sequence of write batches (``[Started] Advanced Opened* (Entry
  Key)+``) and single rows (checkpoint records, taxonomy versions); on SQLite the notification ids
  are dense from 1, and no id is below 1 (the log's readers start at 1);
* every row's state is the JSON the mapper writes (re-encoding it gives the same bytes), with
  exactly its event's members, its ``originator_id``/``originator_version`` equal to the row's
  columns, and each member of the right type;
* an entry's row is in the stream of ``ServiceLedger.create_id(entry.service)``, its version the
  next of that stream, its position the next of the log; its key row follows it, is in the stream
  of ``EventKey.create_id(event_id)`` at version 1, and holds the entry's event id, service, kind,
  content digest, position and leaf hash;
* the head's events are dense, each ``Advanced`` covers exactly the entries of its batch and holds
  the tree's frontier at its size; a service's ``Opened`` row names the service of its stream and
  comes in the batch of its first entry;
* every snapshot equals the state its aggregate's verified events give at its version, and every
  snapshot the writer takes (``Ledger.snapshotting_intervals``) is there;
* checkpoint records and taxonomy versions are complete and well formed, each in the stream its
  content names (a taxonomy's digest is that of its statements).

Anything else is a ``Finding`` naming the first position it affects, or the checkpoint or
taxonomy version it belongs to. Nothing here raises on damaged data.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import orjson
from eventsourcing.utils import get_topic

from insightlog.aggregates.base import STORED_TOPICS
from insightlog.aggregates.checkpoints import CheckpointRecord
from insightlog.aggregates.service import NAMESPACE as LEDGER_NAMESPACE
from insightlog.aggregates.service import SCOPE_FIELDS, EventKey, LedgerHead, ServiceLedger
from insightlog.aggregates.taxonomy import NAMESPACE as TAXONOMY_NAMESPACE
from insightlog.aggregates.taxonomy import Taxonomy
from insightlog.application.ledger import entry_from_state
from insightlog.interchange.entry import ENVELOPE_FIELDS
from insightlog.proof.canonical import leaf_hash
from insightlog.proof.checkpoint import Checkpoint, Signature, SignedCheckpoint
from insightlog.proof.merkle import MerkleTree
from insightlog.storage.rawrows import EventRow, SnapshotRow, event_rows, id_form, snapshot_rows

if TYPE_CHECKING:
    from insightlog.application.ledger import Ledger

# ----------------------------------------------------------------------------- what is written


def _topics(cls: type) -> frozenset[str]:
    """The topics rows of ``cls`` may carry: its own, and the one it was first stored under."""
    found = {get_topic(cls)}
    if cls in STORED_TOPICS:
        found.add(STORED_TOPICS[cls])
    return frozenset(found)


def _fields(cls: Any) -> frozenset[str]:
    return frozenset(cls.model_fields)


STARTED, ADVANCED, OPENED, ENTRY, KEY = "started", "advanced", "opened", "entry", "key"
TAKEN, COSIGNED, TIMESTAMPED, TAXONOMY = "taken", "cosigned", "timestamped", "taxonomy"
HEAD_SNAPSHOT, SERVICE_SNAPSHOT = "head snapshot", "service snapshot"

EVENT_CLASSES: dict[str, Any] = {
    STARTED: LedgerHead.Started,
    ADVANCED: LedgerHead.Advanced,
    OPENED: ServiceLedger.Opened,
    ENTRY: ServiceLedger.EntryAppended,
    KEY: EventKey.Registered,
    TAKEN: CheckpointRecord.Taken,
    COSIGNED: CheckpointRecord.Cosigned,
    TIMESTAMPED: CheckpointRecord.Timestamped,
    TAXONOMY: Taxonomy.Added,
}
KIND_OF_TOPIC: dict[str, str] = {topic: kind for kind, cls in EVENT_CLASSES.items() for topic in _topics(cls)}
SNAPSHOT_KIND_OF_TOPIC: dict[str, str] = {
    **{topic: HEAD_SNAPSHOT for topic in _topics(LedgerHead.Snapshot)},
    **{topic: SERVICE_SNAPSHOT for topic in _topics(ServiceLedger.Snapshot)},
}
MEMBERS: dict[str, frozenset[str]] = {kind: _fields(cls) for kind, cls in EVENT_CLASSES.items()}
SNAPSHOT_MEMBERS = _fields(LedgerHead.Snapshot)
AGGREGATE_TOPICS: dict[str, frozenset[str]] = {
    STARTED: _topics(LedgerHead),
    OPENED: _topics(ServiceLedger),
    KEY: _topics(EventKey),
    TAKEN: _topics(CheckpointRecord),
    TAXONOMY: _topics(Taxonomy),
    HEAD_SNAPSHOT: _topics(LedgerHead),
    SERVICE_SNAPSHOT: _topics(ServiceLedger),
}
ENVELOPE = frozenset(ENVELOPE_FIELDS)
HEAD_STATE = frozenset({"origin", "size", "frontier", "_created_on", "_modified_on"})
# ``withdrawn`` and ``registrations`` are absent from snapshots taken before interchange 1.1.
# ``scopes`` and ``registered_at`` (what a live record may name; the back-fill limit) from 0.2 on.
SERVICE_STATE = frozenset(
    {
        "name",
        "latest_recorded_at",
        "entry_count",
        "themes",
        "withdrawn",
        "registrations",
        "scopes",
        "registered_at",
        "_created_on",
        "_modified_on",
    }
)
SERVICE_STATE_OPTIONAL = frozenset({"withdrawn", "registrations", "scopes", "registered_at"})

_EVENT_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z")
_SECOND = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_ZERO_LEAF = b"\x00" * 32


# ----------------------------------------------------------------------------- findings


@dataclass
class Finding:
    """One thing verify found wrong; ``position`` is the first position it concerns (or None,
    when it concerns a checkpoint or a taxonomy version, which the message names)."""

    position: int | None
    message: str


@dataclass
class StoredCheckpoint:
    """A checkpoint as stored in the ledger, with the public keys its signers registered."""

    signed: SignedCheckpoint
    keys: dict[str, str]
    tsa_url: str | None = None


@dataclass
class Scan:
    """What ``scan`` read: the findings, the tree of the entries in log order, the head as its
    events left it, the checkpoint records that are intact, and counts for the report."""

    findings: list[Finding] = field(default_factory=list)
    tree: MerkleTree = field(default_factory=MerkleTree)
    origin: str | None = None
    head_size: int = 0
    head_frontier: list[bytes] = field(default_factory=list)
    has_head: bool = False
    checkpoints: list[StoredCheckpoint] = field(default_factory=list)
    damaged_checkpoints: int = 0
    taxonomies: dict[str, str] = field(default_factory=dict)  # name -> digest
    rows: int = 0
    snapshots: int = 0

    @property
    def events(self) -> int:
        return len(self.tree)


class _Bad(Exception):
    """A row is not what the ledger writes (the message says how)."""


class _Orphan(Exception):
    """A checkpoint event of no checkpoint: reported already (``finish_orphans`` names it)."""


# ----------------------------------------------------------------------------- ids


def _uuid5_bytes(namespace: UUID, name: str) -> bytes:
    """``uuid5(namespace, name).bytes`` without building the UUID (this runs for every key)."""
    digest = bytearray(hashlib.sha1(namespace.bytes + name.encode("utf-8")).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    return bytes(digest)


def _dashed(raw: bytes) -> str:
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class _Ids:
    """The id a row must have, in the state's form (dashed) and in the id column's form."""

    def __init__(self, form: str) -> None:
        self.hex = form == "hex"
        self._services: dict[str, tuple[str, str]] = {}
        self.head = self._pair(LedgerHead.create_id().bytes)
        self._event_prefix = LEDGER_NAMESPACE.bytes + b"event:"

    def _pair(self, raw: bytes) -> tuple[str, str]:
        dashed = _dashed(raw)
        return dashed, raw.hex() if self.hex else dashed

    def service(self, name: str) -> tuple[str, str]:
        found = self._services.get(name)
        if found is None:
            found = self._services[name] = self._pair(_uuid5_bytes(LEDGER_NAMESPACE, f"service:{name}"))
        return found

    def key(self, event_id: str) -> tuple[str, str]:
        # uuid5 written out on the hex digits (this runs for every key): version 5, RFC 4122 variant.
        h = hashlib.sha1(self._event_prefix + event_id.encode("utf-8")).hexdigest()
        h = f"{h[:12]}5{h[13:16]}{'89ab'[int(h[16], 16) & 3]}{h[17:32]}"
        dashed = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
        return dashed, h if self.hex else dashed

    def checkpoint(self, origin: str, size: int) -> tuple[str, str]:
        return self._pair(_uuid5_bytes(LEDGER_NAMESPACE, f"checkpoint:{origin}:{size}"))

    def taxonomy(self, name: str) -> tuple[str, str]:
        return self._pair(_uuid5_bytes(TAXONOMY_NAMESPACE, f"taxonomy:{name}"))


# ----------------------------------------------------------------------------- decoding


def _plain(ledger: Ledger, state: Any) -> bytes:
    """The state's JSON bytes, decrypted (and decompressed) as the mapper reads them."""
    if not isinstance(state, bytes):
        raise _Bad(f"its state column holds {type(state).__name__}, not bytes")
    mapper = ledger.mapper
    if mapper.cipher is not None:
        state = mapper.cipher.decrypt(state)
    if mapper.compressor is not None:
        state = mapper.compressor.decompress(state)
    return bytes(state)


def _object(plain: bytes, members: frozenset[str]) -> dict[str, Any]:
    """The state as the mapper wrote it: a JSON object with exactly ``members``, whose encoding
    is the bytes stored (no duplicate member, no other spelling of a value)."""
    try:
        obj = orjson.loads(plain)
    except orjson.JSONDecodeError:
        raise _Bad("its state is not JSON") from None
    if type(obj) is not dict:
        raise _Bad("its state is not a JSON object")
    if obj.keys() != members:
        missing, extra = sorted(members - obj.keys()), sorted(obj.keys() - members)
        raise _Bad(f"its state has members {_members_text(missing, extra)}")
    if orjson.dumps(obj) != plain:
        raise _Bad(_NOT_CANONICAL)
    return obj


_NOT_CANONICAL = "its state is not in the form the ledger writes (a member repeated, or a value re-spelt)"


def _members_text(missing: list[str], extra: list[str]) -> str:
    parts = []
    if missing:
        parts.append(f"missing {', '.join(missing)}")
    if extra:
        parts.append(f"unexpected {', '.join(_printable(e) for e in extra)}")
    return "; ".join(parts)


def _printable(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _int(value: Any, what: str, minimum: int = 0) -> int:
    if type(value) is not int or value < minimum:
        raise _Bad(f"its {what} {_printable(value)} is not an integer of at least {minimum}")
    return value


def _str(value: Any, what: str) -> str:
    if type(value) is not str or not value:
        raise _Bad(f"its {what} {_printable(value)} is not a non-empty string")
    return value


def _time(value: Any, what: str, pattern: re.Pattern[str] = _EVENT_TIME) -> datetime:
    if type(value) is not str or not pattern.fullmatch(value):
        raise _Bad(f"its {what} {_printable(value)} is not a UTC time as the ledger writes it")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise _Bad(f"its {what} {_printable(value)} is not a valid time") from None


def _hex64(value: Any, what: str) -> str:
    if type(value) is not str or not _HEX64.fullmatch(value):
        raise _Bad(f"its {what} {_printable(value)} is not 64 lowercase hex digits")
    return value


def _b64(value: Any, what: str) -> bytes:
    if type(value) is not str:
        raise _Bad(f"its {what} is not base64 text")
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise _Bad(f"its {what} is not valid base64") from None


def _public_key(value: Any, key_id: str) -> str:
    """A registered public key: PEM text of the key whose id the record gives (packs ship it)."""
    from insightlog.proof.keys import KeyFileError, public_key_from_pem, public_key_pem
    from insightlog.proof.keys import key_id as id_of

    pem = _str(value, "public key")
    try:
        public = public_key_from_pem(pem.encode("ascii"))
    except (KeyFileError, UnicodeEncodeError, ValueError):
        raise _Bad("its public key is not a PEM Ed25519 public key") from None
    if id_of(public) != key_id:
        raise _Bad(f"its public key is not the key {key_id[:16]} it names")
    if public_key_pem(public).decode("ascii") != pem:
        raise _Bad("its public key is not written as the ledger writes it")
    return pem


def content_digest(fields: dict[str, Any]) -> str:
    """Digest of an event's interchange content (as ``insightlog.application.ledger``)."""
    return hashlib.sha256(orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)).hexdigest()


# ----------------------------------------------------------------------------- the walk


@dataclass
class _Service:
    name: str
    dashed: str
    column: str
    version: int = 1
    created_on: Any = None
    batch: int = 0
    opened_at: int = 1  # the position after the entries before its opening event
    first_position: int | None = None
    positions: dict[int, int] = field(default_factory=dict)  # version -> position
    replay: Any = None
    broken: bool = False


@dataclass
class _Pending:
    """The entry just read, waiting for its key row."""

    position: int
    slot: int = 0  # its place in log order: the position it holds when the log before it is intact
    event_id: Any = None
    service: Any = None
    kind: Any = None
    digest: str | None = None
    leaf: str | None = None
    keyed: bool = False


@dataclass
class _Batch:
    """One write: a head event and the entries it covers."""

    number: int
    size: int | None
    frontier: list[str] | None
    start: int  # entries before the write
    head_version: int
    versions: dict[str, int] = field(default_factory=dict)  # aggregate column id -> last version
    crossed: set[str] = field(default_factory=set)
    uncovered: bool = False
    end: int | None = None  # entries read when the write ended


@dataclass
class _CheckpointStream:
    label: str
    dashed: str
    version: int
    stored: StoredCheckpoint | None


class _Walk:
    """One pass over the event table, then the snapshot table (see the module docstring)."""

    def __init__(self, ledger: Ledger, *, whole: bool = True) -> None:
        self.ledger = ledger
        self.out = Scan()
        self.ids = _Ids(id_form(ledger))
        self.dense_ids = whole and ledger.backend.name == "sqlite"
        intervals = getattr(ledger, "snapshotting_intervals", None) or {}
        self.snapshotting = getattr(ledger, "snapshots", None) is not None
        self.head_interval: int | None = intervals.get(LedgerHead)
        self.service_interval: int | None = intervals.get(ServiceLedger)
        self.snapshot_rows: list[SnapshotRow] = snapshot_rows(ledger) if whole else []
        self.wanted: dict[str, set[Any]] = {}
        for snap in self.snapshot_rows:
            self.wanted.setdefault(str(snap.originator_id), set()).add(snap.originator_version)
        self.head_column = self.ids.head[1]
        self.head_wanted = self.wanted.get(self.head_column, set())
        self.captures: dict[tuple[str, int], dict[str, Any]] = {}
        self.services: dict[str, _Service] = {}
        self.by_column: dict[str, _Service] = {}
        self.claimed: list[int] = []  # each entry's position, in log order
        self.count = 0  # entries read
        self.pending: _Pending | None = None
        self.event_ids: set[str] = set()
        self.head_version = 0
        self.head_created: Any = None
        self.head_states: dict[int, dict[str, Any]] = {}
        self.batches: list[_Batch] = []
        self.batch: _Batch | None = None
        self.started_pending = False
        self.orphans_reported = False
        self.expected_snapshots: dict[tuple[str, int], int] = {}
        self.checkpoint_streams: dict[str, _CheckpointStream] = {}
        self.late_opened: list[tuple[Finding, str, Any, int]] = []
        self.head_problems: list[tuple[int, int, str]] = []  # (first position of the write, its size, message)
        self.orphans: list[tuple[Finding, dict[str, Any]]] = []  # co-signatures and tokens of no checkpoint row
        self.previous_id = 0
        cipher = ledger.mapper.cipher
        # No cipher, or this store's pass-through one: a plain JSON object is read as it is.
        self.plain_store = ledger.mapper.compressor is None and (cipher is None or getattr(cipher, "aes", 1) is None)
        self.undecryptable = 0
        self.cipher_error: Exception | None = None
        self.handlers: dict[str, Callable[[EventRow, dict[str, Any]], None]] = {
            kind: getattr(self, kind) for kind in EVENT_CLASSES
        }

    def find(self, position: int | None, message: str) -> Finding:
        finding = Finding(position, message)
        self.out.findings.append(finding)
        return finding

    def next_position(self) -> int:
        return self.count + 1

    # -- the event table -------------------------------------------------------------------

    def run(self) -> Scan:
        hidden: list[EventRow] = []
        for row in event_rows(self.ledger):
            self.out.rows += 1
            if type(row.notification_id) is not int or row.notification_id < 1:
                hidden.append(row)  # the log's readers start at 1: walk the log they see
                continue
            self.row(row)
        if self.undecryptable and self.undecryptable == self.out.rows and self.cipher_error is not None:
            raise self.cipher_error  # not damage: the store is read without its key (or with another)
        self.close_pending()
        self.close_batch()
        self.finish_positions()
        self.finish_head()
        self.finish_services()
        for row in hidden:
            self.hidden(row)
        self.finish_orphans()
        self.snapshots()
        self.out.findings.sort(key=lambda f: (f.position is None, f.position or 0))
        return self.out

    def row(self, row: EventRow) -> None:
        """Classify a row by its topic (or, when the topic lies, by its members), then check it.

        This runs for every row: the usual case (plain JSON, dense ids) is written out inline."""
        topic = row.topic
        topic_kind = KIND_OF_TOPIC.get(topic) if type(topic) is str else None
        nid = row.notification_id
        if self.dense_ids and nid != self.previous_id + 1:
            self.check_notification_id(row)
        self.previous_id = nid
        pending = self.pending
        owner = pending if pending is not None and not pending.keyed else None
        state = row.state
        if self.plain_store and type(state) is bytes and state[:2] == b'{"':
            plain = state
        else:
            try:
                plain = _plain(self.ledger, state)
            except _Bad as exc:
                self.damaged(row, topic_kind, str(exc), None, owner)
                return
            except Exception as exc:  # noqa: BLE001 - a cipher refusing damaged bytes, or the wrong key
                self.undecryptable += 1
                self.cipher_error = exc
                self.damaged(row, topic_kind, "its state cannot be decrypted", None, owner)
                return
        try:
            loose = orjson.loads(plain)
        except orjson.JSONDecodeError:
            loose = None
        if type(loose) is not dict:
            self.damaged(row, topic_kind, "its state is not a JSON object", None, owner)
            return
        kind = topic_kind if topic_kind is not None and loose.keys() == MEMBERS[topic_kind] else _kind_of_members(loose)
        if kind is None or kind != topic_kind:
            why = f"its topic {_printable(row.topic)} is not what the ledger writes for it"
            if kind is None:
                expected = MEMBERS[topic_kind] if topic_kind is not None else frozenset()
                why = (
                    f"its state has members {_members_text(sorted(expected - loose.keys()), sorted(loose.keys() - expected))}"
                    if topic_kind is not None
                    else f"it has topic {_printable(row.topic)}, which this ledger never writes"
                )
            self.damaged(row, kind or topic_kind, why, loose, owner)
            return
        if kind != KEY:
            self.close_pending()
        obj = loose
        try:
            if orjson.dumps(obj) != plain:
                raise _Bad(_NOT_CANONICAL)
            self.common(row, obj, kind)
        except _Bad as exc:
            self.damaged(row, kind, str(exc), loose, owner)
            return
        try:
            self.handlers[kind](row, obj)
        except _Orphan:
            self.out.damaged_checkpoints += 1
        except _Bad as exc:
            self.report(row, kind, str(exc), obj, owner)

    def check_notification_id(self, row: EventRow) -> None:
        """SQLite numbers rows densely from 1 and rows are never deleted: a gap is a deletion."""
        nid = row.notification_id
        expected = self.previous_id + 1
        lost = f"{expected}" if nid == expected + 1 else f"{expected}..{nid - 1}"
        if nid < expected:
            self.find(None, f"row {nid} of the event table is out of order")
        else:
            self.find(None, f"rows {lost} of the event table are missing (deleted), after position {self.count}")

    def common(self, row: EventRow, obj: dict[str, Any], kind: str) -> None:
        """The members every event has: its id and version are the row's, its time a time."""
        version = obj["originator_version"]
        if version != row.originator_version or type(version) is not int or type(row.originator_version) is not int:
            raise _Bad(
                f"its version ({_printable(row.originator_version)} in the row, {_printable(version)} in the state) "
                "differs or is not an integer"
            )
        if type(obj["originator_id"]) is not str:
            raise _Bad("its originator_id is not text")
        if kind != TAKEN:  # a checkpoint's Taken event keeps the checkpoint's own time in ``timestamp``
            _time(obj["timestamp"], "event time")
        if kind in AGGREGATE_TOPICS and obj["originator_topic"] not in AGGREGATE_TOPICS[kind]:
            raise _Bad(f"it names the aggregate class {_printable(obj['originator_topic'])}")

    def same_id(
        self, row: EventRow, obj: dict[str, Any], expected: tuple[str, str], what: str, name: Any = None
    ) -> None:
        """The row is in the stream of ``what`` (``name``, when given, is printed after it)."""
        dashed, column = expected
        if obj["originator_id"] != dashed or row.originator_id != column:
            named = f"{what} {_printable(name)}" if name is not None else what
            raise _Bad(
                f"it is stored under the id {_printable(row.originator_id)} (state {_printable(obj['originator_id'])}), "
                f"not {column}, the id of {named}"
            )

    def damaged(
        self, row: EventRow, kind: str | None, why: str, loose: dict[str, Any] | None, owner: _Pending | None
    ) -> None:
        """A row that could not be checked as its kind: keep the walk in step, then report it."""
        if kind != KEY:
            self.close_pending()
        if kind == ENTRY:
            self.count += 1
            position = loose.get("position") if loose is not None else None
            slot = self.count
            self.claimed.append(position if type(position) is int and position >= 1 else slot)
            self.out.tree.append(_ZERO_LEAF)
            self.pending = _Pending(slot, slot)
        elif kind == STARTED:
            self.head_version += 1
            self.out.has_head = True
            self.started_pending = True
        elif kind == ADVANCED:
            self.close_batch()
            self.head_version += 1
            self.open_batch(None, None, self.head_version)
        elif kind == TAKEN:
            self.out.damaged_checkpoints += 1
            column = str(row.originator_id)
            if column not in self.checkpoint_streams:
                self.checkpoint_streams[column] = _CheckpointStream(self.checkpoint_label(row, loose), "", 1, None)
        elif kind in (COSIGNED, TIMESTAMPED):
            self.out.damaged_checkpoints += 1
            stream = self.checkpoint_streams.get(str(row.originator_id))
            if stream is not None:
                stream.stored = None
                stream.version += 1
        self.report(row, kind, why, loose, owner)

    def report(
        self, row: EventRow, kind: str | None, why: str, obj: dict[str, Any] | None, owner: _Pending | None
    ) -> None:
        """A finding for a row, at the position (or the checkpoint, or the taxonomy) it belongs to."""
        where = f"row {_printable(row.notification_id)}"
        if kind == ENTRY:
            position = self.pending.position if self.pending is not None else self.count
            self.find(position, f"the entry at position {position} ({where}): {why}")
        elif kind == KEY:
            claimed = obj.get("position") if obj is not None else None
            if owner is not None:
                # The entry and its key disagree: the one that holds the entry's place in the log
                # (its slot, the log before it being intact) is the one still as appended.
                candidates = [owner.position] + ([claimed] if type(claimed) is int and claimed >= 1 else [])
                position = owner.slot if owner.slot in candidates else min(candidates)
                owner.keyed = True
            elif type(claimed) is int and claimed >= 1:
                position = claimed
            else:
                position = max(self.count, 1)
            self.find(position, f"the event key of position {position} ({where}): {why}")
        elif kind == OPENED:
            finding = self.find(self.next_position(), f"the opening event of a service ({where}): {why}")
            name = obj.get("name") if obj is not None else None
            self.late_opened.append((finding, str(row.originator_id), name, self.next_position()))
        elif kind in (STARTED, ADVANCED):
            start = self.batch.start + 1 if kind == ADVANCED and self.batch is not None else self.next_position()
            noun = "the ledger head's first event" if kind == STARTED else "the ledger head event"
            self.find(start, f"{noun} of the write from position {start} ({where}): {why}")
        elif kind in (TAKEN, COSIGNED, TIMESTAMPED):
            stream = self.checkpoint_streams.get(str(row.originator_id))
            label = stream.label if stream is not None else self.checkpoint_label(row, obj)
            self.find(None, f"{label} ({where}, {kind}): {why}")
        elif kind == TAXONOMY:
            name = obj.get("name") if obj is not None else None
            self.find(
                None, f"taxonomy version {_printable(name) if name is not None else '(unreadable)'} ({where}): {why}"
            )
        else:
            self.find(self.next_position(), f"{where} of the event table: {why}")

    def hidden(self, row: EventRow) -> None:
        """A row below notification id 1: the log's readers (export, services, checkpoints) never
        see it, the stream readers (history, the write path) do. Named where its content belongs."""
        why = f"its notification id {_printable(row.notification_id)} is below 1, so the log's readers never see it"
        loose: dict[str, Any] | None = None
        try:
            candidate = orjson.loads(_plain(self.ledger, row.state))
            loose = candidate if type(candidate) is dict else None
        except Exception:  # noqa: BLE001 - unreadable: named by its topic alone
            loose = None
        kind = _kind_of_members(loose) if loose is not None else None
        if kind is None and isinstance(row.topic, str):
            kind = KIND_OF_TOPIC.get(row.topic)
        claimed = loose.get("position") if loose is not None else None
        where = f"row {_printable(row.notification_id)}"
        if kind in (ENTRY, KEY) and type(claimed) is int and claimed >= 1:
            self.find(
                claimed, f"the {'entry' if kind == ENTRY else 'event key'} of position {claimed} ({where}): {why}"
            )
        elif kind == OPENED:
            name = loose.get("name") if loose is not None else None
            svc = self.by_column.get(str(row.originator_id)) or (self.services.get(name) if type(name) is str else None)
            self.find(
                svc.first_position if svc is not None and svc.first_position else 1,
                f"the opening event of a service ({where}): {why}",
            )
        elif kind == STARTED:
            self.find(1, f"the ledger head's first event ({where}): {why}")
        elif kind == ADVANCED:
            version = loose.get("originator_version") if loose is not None else None
            before = next((b for b in self.batches if b.head_version == version), None)
            self.find(before.start + 1 if before is not None else 1, f"a ledger head event ({where}): {why}")
        else:
            self.report(row, kind, why, loose, None)

    def finish_orphans(self) -> None:
        """A co-signature or timestamp token whose checkpoint row is not its stream's: name the
        checkpoint it signs (its signature, or its token, verifies over that checkpoint's body)."""
        from insightlog.proof.checkpoint import verify_signature
        from insightlog.proof.keys import public_key_from_pem

        stored = [s.stored for s in self.checkpoint_streams.values() if s.stored is not None]
        for finding, obj in self.orphans:
            for candidate in stored:
                body = candidate.signed.checkpoint
                try:
                    if "signature" in obj:
                        sig = Signature(obj["key_id"], obj["role"], base64.b64decode(obj["signature"]))
                        matched = verify_signature(
                            body, sig, public_key_from_pem(str(obj["public_key_pem"]).encode("ascii"))
                        )
                    else:
                        from insightlog.proof.tsa import verify_token

                        verify_token(base64.b64decode(obj["token"]), body.signed_body(), None)
                        matched = True
                except Exception:  # noqa: BLE001 - not this checkpoint's
                    matched = False
                if matched:
                    finding.message = f"stored checkpoint of size {body.size}: " + finding.message
                    break

    # -- entries and keys ------------------------------------------------------------------

    def entry(self, row: EventRow, obj: dict[str, Any]) -> None:
        self.count += 1
        slot = self.count
        position = obj["position"]
        self.claimed.append(position if type(position) is int and position >= 1 else slot)
        fields = obj["entry"]
        pending = self.pending = _Pending(slot, slot)
        if type(position) is not int or position < 1:
            self.out.tree.append(_ZERO_LEAF)
            raise _Bad(f"its position {_printable(position)} is not a position")
        pending.position = position
        if type(fields) is not dict or fields.keys() != ENVELOPE:
            self.out.tree.append(_ZERO_LEAF)
            raise _Bad("its entry does not have exactly the 13 interchange fields")
        pending.event_id, pending.service, pending.kind = fields["event_id"], fields["service"], fields["kind"]
        try:
            entry = entry_from_state(obj)
            leaf = leaf_hash(entry)
        except Exception as exc:  # noqa: BLE001 - any value the leaf encoding refuses
            self.out.tree.append(_ZERO_LEAF)
            raise _Bad(f"its content cannot be read as an entry ({type(exc).__name__})") from None
        self.out.tree.append(leaf)
        pending.leaf = leaf.hex()
        pending.digest = content_digest(fields)
        self.covered(position)
        service = _str(fields["service"], "service")
        appended = obj["appended_at"]
        if type(appended) is not str or not _SECOND.fullmatch(appended):  # entry_from_state parsed it already
            raise _Bad(f"its append time {_printable(appended)} is not a UTC time as the ledger writes it")
        _str(obj["source"], "source")
        self.service_event(row, obj, service, position)

    def covered(self, position: int) -> None:
        """Every entry is covered by the head event of its write."""
        batch = self.batch
        if batch is not None and (batch.size is None or self.count <= batch.size):
            return
        if batch is None:
            if self.orphans_reported:
                return
            self.orphans_reported = True
        elif batch.uncovered:
            return
        else:
            batch.uncovered = True
        self.find(
            position,
            f"the entry at position {position} is not covered by a ledger head event (head rows are missing or moved)",
        )

    def service_event(self, row: EventRow, obj: dict[str, Any], service: str, position: int) -> None:
        svc = self.services.get(service)
        if svc is None:
            dashed, column = self.ids.service(service)
            svc = _Service(service, dashed, column, broken=True, first_position=position)
            self.services[service] = svc
            self.by_column.setdefault(column, svc)
            self.find(
                position,
                f"the entry at position {position} is the first of service {_printable(service)}, "
                "which has no opening event (ServiceLedger.Opened)",
            )
        elif svc.first_position is None:
            svc.first_position = position
            if self.batch is not None and svc.batch != self.batch.number:
                self.find(
                    position,
                    f"service {_printable(service)} was opened in another write than its first entry (position {position})",
                )
        expected = svc.version + 1
        stored = obj["originator_version"]
        # A few missing rows before it: keep in step with the stream, so one deletion is one finding.
        svc.version = stored if expected < stored <= expected + 16 else expected
        svc.positions[svc.version] = position
        try:
            self.same_id(row, obj, (svc.dashed, svc.column), "service", service)
            if stored != expected:
                raise _Bad(
                    f"its version {stored} is not the next of service {_printable(service)}'s stream ({expected})"
                )
            self.track(svc.column, expected, self.service_interval)
            if svc.replay is not None and not svc.broken:
                try:
                    ServiceLedger.apply_entry(svc.replay, obj["entry"])
                except Exception as exc:  # noqa: BLE001 - an entry the aggregate cannot apply
                    raise _Bad(f"the service's state cannot apply it ({type(exc).__name__})") from None
                if expected in self.wanted.get(svc.column, ()):
                    self.captures[(svc.column, expected)] = self.service_state(svc, obj["timestamp"])
        except _Bad:
            svc.broken = True
            raise

    @staticmethod
    def service_state(svc: _Service, modified_on: Any) -> dict[str, Any]:
        state = svc.replay.__dict__
        return {
            "name": state["name"],
            "latest_recorded_at": state["latest_recorded_at"],
            "entry_count": state["entry_count"],
            "themes": dict(state["themes"]),
            "withdrawn": {k: list(v) for k, v in state["withdrawn"].items()},
            "registrations": None if state["registrations"] is None else list(state["registrations"]),
            "scopes": None if state["scopes"] is None else {k: list(v) for k, v in state["scopes"].items()},
            "registered_at": state["registered_at"],
            "_created_on": svc.created_on,
            "_modified_on": modified_on,
        }

    def key(self, row: EventRow, obj: dict[str, Any]) -> None:
        pending = self.pending
        if pending is None or pending.keyed:
            raise _Bad("it does not follow the entry it belongs to")
        pending.keyed = True
        event_id = _str(obj["event_id"], "event_id")
        self.same_id(row, obj, self.ids.key(event_id), "event id", event_id)
        if obj["originator_version"] != 1:
            raise _Bad("an event key has one event, at version 1")
        if event_id in self.event_ids:
            raise _Bad(f"event id {_printable(event_id)} has a key already")
        self.event_ids.add(event_id)
        if (
            event_id == pending.event_id
            and obj["service"] == pending.service
            and obj["kind"] == pending.kind
            and obj["digest"] == pending.digest
            and obj["leaf_hash"] == pending.leaf
            and obj["position"] == pending.position
            and type(obj["position"]) is int
        ):
            return
        wrong = [
            name
            for name, mine, theirs in (
                ("event_id", event_id, pending.event_id),
                ("service", obj["service"], pending.service),
                ("kind", obj["kind"], pending.kind),
                ("position", obj["position"], pending.position),
                ("digest", obj["digest"], pending.digest),
                ("leaf_hash", obj["leaf_hash"], pending.leaf),
            )
            if mine != theirs or type(mine) is not type(theirs)
        ]
        if wrong:
            raise _Bad(
                f"it differs from its entry in {', '.join(wrong)}: the entry is not what was committed when it was appended"
            )

    def close_pending(self) -> None:
        pending = self.pending
        if pending is not None and not pending.keyed:
            pending.keyed = True
            self.find(
                pending.position,
                f"the entry at position {pending.position} has no event key after it "
                "(the key committed when it was appended is missing or moved)",
            )
        self.pending = None

    def finish_positions(self) -> None:
        """Positions are 1..n, each once, in log order; name the ones out of place."""
        claimed = self.claimed
        if all(p == i for i, p in enumerate(claimed, start=1)):
            return
        keep = _longest_increasing(claimed)
        present = {claimed[i] for i in keep}
        for index, position in enumerate(claimed):
            if index not in keep:
                # A claim another entry holds is false (name its place in the log); else the entry moved.
                where = index + 1 if position in present else position
                self.find(
                    where,
                    f"an entry claiming position {position} is out of place in the log (entry {index + 1} in log order)",
                )
        missing = [p for p in range(1, max(len(claimed), max(claimed, default=0)) + 1) if p not in present]
        if missing:
            more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
            self.find(missing[0], f"no entry at position {missing[0]}{more}: removed, or moved")

    # -- head ------------------------------------------------------------------------------

    def started(self, row: EventRow, obj: dict[str, Any]) -> None:
        self.head_version += 1
        self.out.has_head = True
        if self.head_version != 1:
            raise _Bad("the ledger head starts once")
        self.started_pending = True
        self.same_id(row, obj, self.ids.head, "the ledger head")
        if obj["originator_version"] != 1:
            raise _Bad("the head's first event is at version 1")
        origin = _str(obj["origin"], "origin")
        if "\n" in origin or origin != origin.strip():
            raise _Bad("its origin is not one line without surrounding space")
        self.out.origin = origin
        self.head_created = obj["timestamp"]
        if 1 in self.head_wanted:
            self.head_states[1] = {
                "origin": origin,
                "size": 0,
                "frontier": [],
                "_created_on": obj["timestamp"],
                "_modified_on": obj["timestamp"],
            }

    def advanced(self, row: EventRow, obj: dict[str, Any]) -> None:
        self.close_batch()
        self.head_version += 1
        version = self.head_version
        size_value, frontier_value = obj["size"], obj["frontier"]
        ok_size = type(size_value) is int and size_value >= self.count
        # A tree of n leaves has one frontier hash per set bit of n.
        ok_frontier = (
            type(frontier_value) is list
            and ok_size
            and len(frontier_value) == bin(size_value).count("1")
            and all(type(h) is str and _HEX64.fullmatch(h) for h in frontier_value)
        )
        self.open_batch(size_value if ok_size else None, frontier_value if ok_frontier else None, version)
        self.same_id(row, obj, self.ids.head, "the ledger head")
        if obj["originator_version"] != version:
            if type(obj["originator_version"]) is int and obj["originator_version"] > version:
                self.head_version = obj["originator_version"]  # rows before it are missing: keep in step with it
            raise _Bad(f"its version {obj['originator_version']} is not the head's next ({version})")
        if not ok_size:
            raise _Bad(
                f"its size {_printable(size_value)} is not a count of at least the {self.count} entries before it"
            )
        if not ok_frontier:
            raise _Bad(f"its frontier is not a list of hashes, one for each set bit of its size {size_value}")
        self.out.head_size = size_value
        self.out.head_frontier = [bytes.fromhex(h) for h in frontier_value]
        if version in self.head_wanted:
            self.head_states[version] = {
                "origin": self.out.origin,
                "size": size_value,
                "frontier": list(frontier_value),
                "_created_on": self.head_created,
                "_modified_on": obj["timestamp"],
            }

    def open_batch(self, size: int | None, frontier: list[str] | None, version: int) -> None:
        self.batch = _Batch(len(self.batches) + 1, size, frontier, self.count, version)
        self.batches.append(self.batch)
        if self.started_pending:
            self.track(self.head_column, 1, self.head_interval)
            self.started_pending = False
        self.track(self.head_column, version, self.head_interval)

    def track(self, column: str, version: int, interval: int | None) -> None:
        """Note an aggregate's version in this write, for the snapshots the writer takes."""
        if self.batch is None:
            return
        self.batch.versions[column] = version
        if interval and version % interval == 0:
            self.batch.crossed.add(column)

    def close_batch(self) -> None:
        batch = self.batch
        if batch is None:
            return
        self.batch = None
        batch.end = self.count
        if batch.size is not None and self.count < batch.size:
            self.head_problems.append(
                (
                    self.count + 1,
                    batch.size,
                    f"the ledger head event of the write from position "
                    f"{batch.start + 1} covers {batch.size - batch.start} entries; the write holds {self.count - batch.start}: "
                    f"positions {self.count + 1}..{batch.size} are missing",
                )
            )
        if self.snapshotting:
            for column in batch.crossed:
                self.expected_snapshots[(column, batch.versions[column])] = batch.start + 1

    def finish_head(self) -> None:
        """Each head event holds the frontier of the stored entries at its size. When it does not,
        a changed entry at or before that size is the cause (named already); else the head event."""
        known = sorted(f.position for f in self.out.findings if f.position is not None)
        for batch in self.batches:
            if batch.size is None or batch.frontier is None or batch.size > len(self.out.tree):
                continue
            if batch.frontier != [h.hex() for h in self.out.tree.frontier(batch.size)]:
                self.head_problems.append(
                    (
                        batch.start + 1,
                        batch.size,
                        f"the tree frontier in the ledger head event of the write "
                        f"from position {batch.start + 1} does not match the stored entries up to position {batch.size}",
                    )
                )
        for start, size, message in self.head_problems:
            self.find(known[0] if known and known[0] <= size else start, message)
        if self.claimed and not self.out.has_head:
            self.find(1, "the ledger head's first event (LedgerHead.Started) is missing")

    # -- services --------------------------------------------------------------------------

    def opened(self, row: EventRow, obj: dict[str, Any]) -> None:
        name = _str(obj["name"], "name")
        dashed, column = self.ids.service(name)
        if name in self.services:
            raise _Bad(f"service {_printable(name)} is opened twice")
        svc = _Service(
            name,
            dashed,
            column,
            created_on=obj["timestamp"],
            batch=self.batch.number if self.batch else 0,
            opened_at=self.next_position(),
        )
        self.services[name] = svc
        self.by_column[column] = svc
        try:
            self.same_id(row, obj, (dashed, column), "service", name)
            if obj["originator_version"] != 1:
                raise _Bad("a service's opening event is at version 1")
        except _Bad:
            svc.broken = True
            raise
        replay = object.__new__(ServiceLedger)
        replay.__dict__.update(
            name=name,
            latest_recorded_at=None,
            entry_count=0,
            themes={},
            withdrawn={},
            registrations=[],
            scopes={field: [] for field in SCOPE_FIELDS},
            registered_at=None,
        )
        svc.replay = replay
        self.track(column, 1, self.service_interval)
        if 1 in self.wanted.get(column, ()):
            self.captures[(column, 1)] = self.service_state(svc, obj["timestamp"])

    def finish_services(self) -> None:
        for name, svc in self.services.items():
            if svc.first_position is None:
                self.find(svc.opened_at, f"service {_printable(name)} has an opening event but no entry")
        for finding, column, name, fallback in self.late_opened:
            found = self.by_column.get(column) or (self.services.get(name) if type(name) is str else None)
            finding.position = found.first_position if found is not None and found.first_position else fallback

    # -- checkpoints -----------------------------------------------------------------------

    def checkpoint_label(self, row: EventRow, obj: dict[str, Any] | None) -> str:
        """``stored checkpoint of size N``, N the size whose id the row is stored under."""
        column = str(row.originator_id)
        if (
            obj is not None
            and type(obj.get("size")) is int
            and type(obj.get("origin")) is str
            and self.ids.checkpoint(obj["origin"], obj["size"])[1] == column
        ):
            return f"stored checkpoint of size {obj['size']}"
        origin = self.out.origin or (obj.get("origin") if obj is not None and type(obj.get("origin")) is str else None)
        if origin is not None:
            for size in range(0, max(self.count, self.out.head_size) + 1):
                if self.ids.checkpoint(origin, size)[1] == column:
                    return f"stored checkpoint of size {size}"
        if obj is not None and type(obj.get("size")) is int:
            return f"stored checkpoint of size {obj['size']} (stored under another id)"
        return f"a stored checkpoint (id {_printable(row.originator_id)})"

    def taken(self, row: EventRow, obj: dict[str, Any]) -> None:
        column = str(row.originator_id)
        if column in self.checkpoint_streams:
            raise _Bad("a checkpoint is taken once")
        stream = self.checkpoint_streams[column] = _CheckpointStream(
            self.checkpoint_label(row, obj), obj["originator_id"], 1, None
        )
        origin = _str(obj["origin"], "origin")
        size = _int(obj["size"], "size")
        self.same_id(row, obj, self.ids.checkpoint(origin, size), f"the checkpoint of size {size}")
        if obj["originator_version"] != 1:
            raise _Bad("a checkpoint's first event is at version 1")
        timestamp = _time(obj["timestamp"], "time", _SECOND)
        root = bytes.fromhex(_hex64(obj["root_hash"], "root hash"))
        key_id = _hex64(obj["key_id"], "key id")
        pem = _public_key(obj["public_key_pem"], key_id)
        signature = _b64(obj["signature"], "signature")
        try:
            checkpoint = Checkpoint(origin, size, root, timestamp)
            sig = Signature(key_id, obj["role"], signature)
        except ValueError as exc:
            raise _Bad(str(exc)) from None
        stream.stored = StoredCheckpoint(SignedCheckpoint(checkpoint, (sig,)), {key_id: pem})

    def later_checkpoint_event(self, row: EventRow, obj: dict[str, Any]) -> _CheckpointStream:
        stream = self.checkpoint_streams.get(str(row.originator_id))
        if stream is None:
            finding = self.find(
                None,
                f"a co-signature or timestamp token (row {_printable(row.notification_id)}) "
                "belongs to no stored checkpoint before it",
            )
            self.orphans.append((finding, obj))
            raise _Orphan()
        stream.version += 1
        if stream.dashed and obj["originator_id"] != stream.dashed:
            stream.stored = None
            raise _Bad("its originator_id is not the row's")
        if obj["originator_version"] != stream.version:
            stream.stored = None
            raise _Bad(f"its version {obj['originator_version']} is not the checkpoint's next ({stream.version})")
        return stream

    def cosigned(self, row: EventRow, obj: dict[str, Any]) -> None:
        stream = self.later_checkpoint_event(row, obj)
        try:
            key_id = _hex64(obj["key_id"], "key id")
            pem = _public_key(obj["public_key_pem"], key_id)
            sig = Signature(key_id, obj["role"], _b64(obj["signature"], "signature"))
        except (ValueError, _Bad) as exc:
            stream.stored = None
            raise _Bad(str(exc)) from None
        if stream.stored is not None:
            if key_id in stream.stored.keys:
                stream.stored = None
                raise _Bad(f"key {key_id[:16]} signs this checkpoint twice")
            stream.stored.signed = stream.stored.signed.with_signature(sig)
            stream.stored.keys[key_id] = pem

    def timestamped(self, row: EventRow, obj: dict[str, Any]) -> None:
        stream = self.later_checkpoint_event(row, obj)
        try:
            token = _b64(obj["token"], "timestamp token")
            url = _str(obj["tsa_url"], "TSA address")
        except _Bad:
            stream.stored = None
            raise
        if stream.stored is not None:
            if stream.stored.signed.tsa_token is not None:
                stream.stored = None
                raise _Bad("a checkpoint keeps its first timestamp token")
            stream.stored.signed = stream.stored.signed.with_tsa_token(token)
            stream.stored.tsa_url = url

    # -- taxonomies ------------------------------------------------------------------------

    def taxonomy(self, row: EventRow, obj: dict[str, Any]) -> None:
        from insightlog.taxonomies import Statement, check_name, shipped_taxonomies, statements_digest

        name = _str(obj["name"], "name")
        try:
            check_name(name)
        except ValueError as exc:
            raise _Bad(str(exc)) from None
        self.same_id(row, obj, self.ids.taxonomy(name), f"taxonomy version {name}")
        if obj["originator_version"] != 1:
            raise _Bad("a taxonomy version has one event, at version 1")
        if name in self.out.taxonomies:
            raise _Bad("it is added twice")
        if name in shipped_taxonomies():
            raise _Bad("it has the name of a version shipped with insightlog")
        raw = obj["statements"]
        if type(raw) is not list or not raw:
            raise _Bad("its statements are not a non-empty list")
        statements = []
        for item in raw:
            if type(item) is not dict or item.keys() != {"id", "key_question", "quality_statement"}:
                raise _Bad("a statement does not have exactly id, key_question and quality_statement")
            statements.append(
                Statement(
                    _str(item["id"], "statement id"),
                    _str(item["key_question"], "key question"),
                    _str(item["quality_statement"], "quality statement"),
                )
            )
        if len({s.id for s in statements}) != len(statements):
            raise _Bad("a statement id is listed twice")
        digest = _hex64(obj["digest"], "digest")
        if statements_digest(statements) != digest:
            raise _Bad("its digest is not the digest of its statements")
        self.out.taxonomies[name] = digest

    # -- snapshots -------------------------------------------------------------------------

    def snapshots(self) -> None:
        present: set[tuple[str, int]] = set()
        for snap in self.snapshot_rows:
            self.out.snapshots += 1
            column = str(snap.originator_id)
            version = snap.originator_version
            kind = SNAPSHOT_KIND_OF_TOPIC.get(snap.topic) if isinstance(snap.topic, str) else None
            try:
                loose = orjson.loads(_plain(self.ledger, snap.state))
            except Exception:  # noqa: BLE001 - unreadable: placed by its columns
                loose = None
            position, label = self.snapshot_place(self.snapshot_owner(kind, column, loose), version)
            try:
                if type(version) is int:
                    present.add((column, version))
                self.snapshot(snap, kind, column, version)
            except _Bad as exc:
                self.find(position, f"{label}: {exc}")
            except Exception as exc:  # noqa: BLE001 - a cipher refusing damaged bytes
                self.find(position, f"{label}: its state cannot be read ({type(exc).__name__})")
        for (column, version), start in sorted(self.expected_snapshots.items()):
            if (column, version) not in present:
                owner = "head" if column == self.head_column else self.by_column.get(column)
                position, label = self.snapshot_place(owner, version)
                self.find(
                    position,
                    f"{label} is missing: the writer took it with the write from position {start} "
                    "(a deleted snapshot, or a write interrupted before its snapshot)",
                )

    def snapshot_owner(self, kind: str | None, column: str, loose: Any) -> Any:
        """Whose snapshot a row is: the aggregate its state names, else its id column's, else its topic's."""
        named = loose.get("originator_id") if type(loose) is dict else None
        if named == self.ids.head[0]:
            return "head"
        for svc in self.services.values():
            if named == svc.dashed:
                return svc
        if column == self.head_column:
            return "head"
        if column in self.by_column:
            return self.by_column[column]
        return "head" if kind == HEAD_SNAPSHOT else None

    def snapshot(self, snap: SnapshotRow, kind: str | None, column: str, version: Any) -> None:
        if kind is None:
            raise _Bad(f"its topic {_printable(snap.topic)} is not a snapshot this ledger takes")
        if type(version) is not int:
            raise _Bad(f"its version {_printable(version)} is not an integer")
        obj = _object(_plain(self.ledger, snap.state), SNAPSHOT_MEMBERS)
        _time(obj["timestamp"], "time")
        if obj["originator_version"] != version or type(obj["originator_version"]) is not int:
            raise _Bad("its version differs from the row's")
        if kind == HEAD_SNAPSHOT:
            expected_id: tuple[str | None, str | None] = self.ids.head
            expected_state = self.head_states.get(version)
            members, optional = HEAD_STATE, frozenset[str]()
        else:
            svc = self.by_column.get(column)
            expected_id = (svc.dashed, svc.column) if svc else (None, None)
            expected_state = self.captures.get((column, version))
            members, optional = SERVICE_STATE, SERVICE_STATE_OPTIONAL
        if expected_id[1] != column or obj["originator_id"] != expected_id[0]:
            raise _Bad("it is stored under an id that is not its aggregate's")
        if obj["topic"] not in AGGREGATE_TOPICS[kind]:
            raise _Bad(f"it names the aggregate class {_printable(obj['topic'])}")
        if expected_state is None:
            raise _Bad(f"its aggregate has no verified event at version {version}")
        _same_state(obj["state"], expected_state, members, optional)

    def snapshot_place(self, owner: Any, version: Any) -> tuple[int | None, str]:
        """The last position a snapshot summarises, and a label for it."""
        if owner == "head":
            label = f"the ledger head's snapshot at version {_printable(version)}"
            if type(version) is not int:
                return None, label
            state = self.head_states.get(version)
            batch = next((b for b in self.batches if b.head_version == version), None)
            size = state["size"] if state else None
            if size is None and batch is not None:
                size = batch.size if batch.size is not None else batch.end
            if size is None:
                earlier = [b for b in self.batches if b.head_version < version]
                size = max((b.end or b.start for b in earlier), default=0)
            return max(size, 1), label
        if isinstance(owner, _Service):
            label = f"the snapshot of service {_printable(owner.name)} at version {_printable(version)}"
            where = owner.positions.get(version) if type(version) is int else None
            if where is None and type(version) is int:
                before = [p for v, p in owner.positions.items() if v <= version]
                where = max(before) if before else owner.first_position
            return where, label
        return None, f"a snapshot row (version {_printable(version)})"


def _kind_of_members(obj: dict[str, Any]) -> str | None:
    keys = obj.keys()
    return next((kind for kind, members in MEMBERS.items() if keys == members), None)


def _same_state(stored: Any, expected: dict[str, Any], members: frozenset[str], optional: frozenset[str]) -> None:
    if type(stored) is not dict:
        raise _Bad("its state is not an object")
    keys = stored.keys()
    if not (members - optional) <= keys or not keys <= members:
        raise _Bad(f"its state has members {_members_text(sorted(members - optional - keys), sorted(keys - members))}")
    if "withdrawn" not in keys and expected.get("withdrawn", {}) != {}:
        raise _Bad("its state leaves out the withdrawals its aggregate's events hold")
    for name in sorted(keys):
        mine, theirs = stored[name], expected[name]
        if name in ("_created_on", "_modified_on"):
            if not _same_time(mine, theirs):
                raise _Bad(f"its {name} is not the time of its aggregate's event")
        elif name in ("registrations", "scopes") and mine is None:
            continue  # unknown (restored from an older snapshot): the writer reads the index or the log
        elif orjson.dumps(mine, option=orjson.OPT_SORT_KEYS) != orjson.dumps(theirs, option=orjson.OPT_SORT_KEYS):
            raise _Bad(f"its {name} is not what its aggregate's events give at this version")


def _same_time(a: Any, b: Any) -> bool:
    if type(a) is not str or type(b) is not str or not _EVENT_TIME.fullmatch(a) or not _EVENT_TIME.fullmatch(b):
        return False
    try:
        return datetime.fromisoformat(a) == datetime.fromisoformat(b)
    except ValueError:
        return False


def _longest_increasing(values: list[int]) -> set[int]:
    """Indexes of one longest strictly increasing subsequence (patience sorting); of two equal
    values it keeps the one at its own place (value = index + 1)."""
    tails: list[int] = []
    tail_index: list[int] = []
    parent = [-1] * len(values)
    for i, v in enumerate(values):
        k = bisect_left(tails, v)
        if k == len(tails):
            tails.append(v)
            tail_index.append(i)
        elif tails[k] == v and values[tail_index[k]] == tail_index[k] + 1 and v != i + 1:
            parent[i] = -2  # the equal value already kept is in its place: this one is not kept
            continue
        else:
            tails[k] = v
            tail_index[k] = i
        parent[i] = tail_index[k - 1] if k else -1
    keep: set[int] = set()
    i = tail_index[-1] if tail_index else -1
    while i != -1:
        keep.add(i)
        i = parent[i]
    return keep


def scan(ledger: Ledger) -> Scan:
    """Check every stored row (see the module docstring); findings sorted by position."""
    walk = _Walk(ledger)
    out = walk.run()
    out.checkpoints = [s.stored for s in walk.checkpoint_streams.values() if s.stored is not None]
    return out


CHECKPOINT_TOPICS = tuple(sorted(t for t, kind in KIND_OF_TOPIC.items() if kind in (TAKEN, COSIGNED, TIMESTAMPED)))


def read_checkpoints(ledger: Ledger) -> tuple[list[StoredCheckpoint], list[Finding]]:
    """The stored checkpoints in the order they were taken, read by topic from the log and held
    to the same rules as ``scan`` holds them; and the findings about damaged checkpoint rows."""
    walk = _Walk(ledger, whole=False)
    hexed = id_form(ledger) == "hex"
    for n in ledger.notifications(list(CHECKPOINT_TOPICS)):
        oid = n.originator_id.hex if hexed and isinstance(n.originator_id, UUID) else str(n.originator_id)
        walk.row(EventRow(n.id, oid, n.originator_version, n.topic, n.state))
    return [s.stored for s in walk.checkpoint_streams.values() if s.stored is not None], walk.out.findings
