"""The use cases every door calls: the CLI, the web application and the importers.

Each method is one thing a user does. Commands load, make one change and save, then apply the
house rules that follow a write (the automatic checkpoint); queries return plain data (lists,
dicts and dataclasses, never aggregates). A door parses its input, makes one call here and renders
the result; it never touches the store itself.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from insightlog.errors import InsightlogError, one_line

if TYPE_CHECKING:
    from insightlog.analysis.basis import Basis
    from insightlog.analysis.policy import Policy
    from insightlog.application.committee import Comparison, ProviderOverview, ThemeDetail, WorkLists
    from insightlog.application.corrections import ServiceListing
    from insightlog.application.ledger import AppendResult, Ledger
    from insightlog.application.proofs import PackSummary, VerifyReport
    from insightlog.application.recording import EntryDetail, ServiceVocabulary, VocabularyFold
    from insightlog.application.reports import ProviderPages
    from insightlog.bootstrap import Config, House
    from insightlog.interchange.entry import Entry
    from insightlog.interchange.timeutil import AsOf
    from insightlog.projections.projection import RunReport, Status
    from insightlog.projections.readmodels import GovernanceResult, ReadModels
    from insightlog.projections.verify import ReadModelCheck
    from insightlog.proof.checkpoint import SignedCheckpoint
    from insightlog.sheets.convert import ConversionResult
    from insightlog.sheets.ledger import StoreCheck
    from insightlog.storage.roles import RolesCheck, RolesReport
    from insightlog.taxonomies import TaxonomyVersion


@dataclass
class CheckpointOutcome:
    """What the automatic checkpoint after a write did: a new checkpoint, nothing, or a warning."""

    size: int | None = None
    root_hash: str | None = None
    outside_file: Path | None = None
    warning: str | None = None

    @property
    def taken(self) -> bool:
        return self.size is not None


@dataclass
class WriteOutcome:
    """The result of a command that appends: the ledger's receipts, then the checkpoint."""

    result: AppendResult
    checkpoint: CheckpointOutcome = field(default_factory=CheckpointOutcome)

    @property
    def warnings(self) -> list[str]:
        return list(self.result.warnings) + ([self.checkpoint.warning] if self.checkpoint.warning else [])


class UseCases:
    """The application surface of one store (built by ``insightlog.bootstrap.House``)."""

    def __init__(self, house: House) -> None:
        self.house = house
        self._vocabulary_lock = threading.Lock()
        self._vocabularies: dict[str, tuple[int, VocabularyFold]] = {}

    @property
    def config(self) -> Config:
        return self.house.config

    @property
    def ledger(self) -> Ledger:
        return self.house.ledger

    # ------------------------------------------------------------------ commands

    def init_store(self) -> int:
        """Create the ledger's schema and the read models; returns the number of events."""
        from insightlog.projections.readmodels import ReadModels

        size = self.ledger.head_size()
        with ReadModels(self.ledger, self.config.store) as models:
            models.ensure()
        return size

    def record(self, fields: dict[str, Any], *, new_scope: bool = False, door: str | None = None) -> WriteOutcome:
        """Record one event live (``recorded_at`` from the ledger's clock), then checkpoint.

        A missing ``event_id`` is generated; give one (an idempotency key) so that a retry after a
        lost answer never records the event twice: the same id with the same content is skipped.
        Typos are refused at the door: the service must be registered (unless this registers it),
        the theme defined for it (unless this defines it), and each scope value declared or used
        before in the service (unless ``new_scope``), each refusal with the closest known names.
        ``door``: ``web`` or ``api`` for the web application's doors (source ``live:web``/``live:api``).
        """
        from insightlog.application.doorchecks import Names, refuse_unknown_names
        from insightlog.application.ledger import AppendResult, new_event_id
        from insightlog.interchange.validation import LineError

        names = Names.of(fields)
        event = dict(fields)
        if not event.get("event_id"):
            event["event_id"] = new_event_id(self.ledger.now())
        elif self._already_recorded(event):
            return WriteOutcome(AppendResult(skipped=[event["event_id"]]))
        refuse_unknown_names(
            names, self.ledger.services(), self.ledger.service_vocabulary(names.service), new_scope=new_scope
        )
        try:
            result = self.ledger.record(event, door=door)
        except LineError as exc:
            if exc.field == "event_id" and self._already_recorded(event):
                return WriteOutcome(AppendResult(skipped=[event["event_id"]]))  # a concurrent retry won
            raise
        return WriteOutcome(result, self._after_write(result))

    def withdraw(
        self,
        event_id: str,
        *,
        reason: str,
        actor_role: str,
        actor_id: str,
        replacement: dict[str, Any] | None = None,
        new_scope: bool = False,
    ) -> WriteOutcome:
        """Withdraw an event entered in error (``EntryWithdrawn``, interchange 1.1), and record its
        replacement (``corrects`` set to the withdrawn id) in the same atomic append if given.

        Nothing is erased: the withdrawn event stays in the log, the exports and the proofs,
        marked as withdrawn from the withdrawal's own recorded time."""
        from insightlog.application.doorchecks import Names, refuse_unknown_names
        from insightlog.application.ledger import new_event_id
        from insightlog.errors import LedgerError

        target = self.ledger.find_entry(event_id)  # None when no key names it
        if target is None:
            raise LedgerError(f"no event {event_id!r} in this store; nothing was withdrawn")
        now = self.ledger.now()
        withdrawal = {
            "event_id": new_event_id(now),
            "service": target.service,
            "kind": "EntryWithdrawn",
            "actor_role": actor_role,
            "actor_id": actor_id,
            "payload": {"withdraws": event_id, "reason": reason},
        }
        batch = [withdrawal]
        if replacement is not None:
            again = {**replacement, "event_id": replacement.get("event_id") or new_event_id(now)}
            again["payload"] = {**dict(again.get("payload") or {}), "corrects": event_id}
            names = Names.of(again)
            refuse_unknown_names(
                names, self.ledger.services(), self.ledger.service_vocabulary(names.service), new_scope=new_scope
            )
            batch.append(again)
        result = self.ledger.record_together(batch)
        return WriteOutcome(result, self._after_write(result))

    def correct(
        self,
        event_id: str,
        *,
        reason: str,
        actor_role: str,
        actor_id: str,
        changes: dict[str, Any],
        new_event_id: str | None = None,
        new_scope: bool = False,
    ) -> WriteOutcome:
        """Withdraw an event and re-record it with changed envelope fields (the right theme, scope,
        observed time or record label), in one atomic append; the copy ``corrects`` the original
        and keeps its author (``actor_role``/``actor_id`` name who withdrew it)."""
        from insightlog.errors import LedgerError

        target = self.ledger.find_entry(event_id)  # None when no key names it
        if target is None:
            raise LedgerError(f"no event {event_id!r} in this store; nothing was corrected")
        allowed = {"theme", "location", "team", "shift", "observed_at", "record"}
        unknown = sorted(set(changes) - allowed)
        if unknown:
            raise LedgerError(
                f"correct changes only {', '.join(sorted(allowed))}; not {', '.join(unknown)} (amend payload fields with EvidenceAmended)"
            )
        if not changes:
            raise LedgerError(
                "correct needs at least one changed field (--theme, --location, --team, --shift, --observed-at, --record)"
            )
        copy = target.interchange()
        for stamped in ("recorded_at",):
            copy.pop(stamped, None)
        copy.update(changes)
        copy["event_id"] = new_event_id
        # The replacement is the original author's entry filed right (a judgement stays a
        # leader's); the withdrawal names who corrected it.
        return self.withdraw(
            event_id, reason=reason, actor_role=actor_role, actor_id=actor_id, replacement=copy, new_scope=new_scope
        )

    def _already_recorded(self, fields: dict[str, Any]) -> bool:
        """Whether a live record with this event id is stored already with the same content but for
        the times the ledger stamped (a retry after a lost answer): then nothing is written twice.
        The same id with other content is refused by the ledger as usual."""
        from insightlog.application.ledger import live_draft

        event_id = str(fields["event_id"])
        if fields.get("recorded_at") is not None or not self.ledger.has_event(event_id):
            return False
        # A retry comes soon after the first attempt: look from the newest entry back.
        stored = next(
            (e for e in self.ledger.entries_newest_first(str(fields.get("service"))) if e.event_id == event_id), None
        )
        if stored is None or not stored.source.startswith("live"):
            return False
        again = dict(fields)
        if again.get("observed_at") is None:
            again["observed_at"] = stored.interchange()["observed_at"]
        try:
            candidate = live_draft(again, stored.recorded_at)
        except InsightlogError:
            return False
        return bool(candidate.interchange() == stored.interchange())

    def import_lines(
        self,
        lines: Iterable[bytes | str],
        *,
        source_name: str,
        backfill: bool = False,
        progress: Callable[[int], None] | None = None,
        strict: bool = False,
    ) -> WriteOutcome:
        """Import interchange lines, all or nothing, then checkpoint.

        Lines naming a service not registered before them, a theme not defined before them, or a
        scope neither declared nor used before are warned about (counts and first examples), or
        refused with ``strict``: a provider's real history often declares neither."""
        result = self.ledger.import_lines(
            lines,
            source_name=source_name,
            backfill=backfill,
            progress=progress,
            vet=lambda drafts: self._vet(drafts, strict),
        )
        return WriteOutcome(result, self._after_write(result))

    def import_file(
        self, path: Path, *, backfill: bool = False, lines: Iterable[bytes] | None = None, strict: bool = False
    ) -> WriteOutcome:
        """Import a JSON Lines file (``lines`` may wrap its lines, e.g. for a progress bar)."""
        from insightlog.application.ledger import read_file_lines

        return self.import_lines(
            lines if lines is not None else read_file_lines(path),
            source_name=path.name,
            backfill=backfill,
            strict=strict,
        )

    def _vet(self, drafts: Sequence[tuple[int | None, Any]], strict: bool) -> list[str]:
        from insightlog.application.doorchecks import first_problem, import_warnings

        stored = {}
        for service in {d.service for _, d in drafts}:
            vocabulary = self.ledger.service_vocabulary(service)
            if vocabulary is not None:
                stored[service] = vocabulary
        if strict:
            problem = first_problem(drafts, stored)
            if problem is not None:
                raise problem
            return []
        return import_warnings((d for _, d in drafts), stored)

    def compare_sheet(self, result: ConversionResult, *, backfill: bool = False) -> StoreCheck:
        """What a converted spreadsheet would do to the store: new, already stored, changed, out
        of recorded order (nothing written)."""
        from insightlog.sheets.ledger import compare_with_store

        return compare_with_store(self.ledger, result, backfill=backfill)

    def import_sheet(
        self,
        result: ConversionResult,
        *,
        source_name: str,
        backfill: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> WriteOutcome:
        """Import a converted spreadsheet through the one import (all or nothing), then checkpoint;
        a ledger error is raised at the cell that fed it (``SheetImportError``)."""
        from insightlog.sheets.ledger import import_result

        self.ledger.check_writable()
        return import_result(self, result, source_name=source_name, backfill=backfill, progress=progress)

    def checkpoint(self, *, tsa_url: str | None = None) -> tuple[SignedCheckpoint, bool]:
        """Sign the current tree head with the provider's key; store it and append it outside."""
        from insightlog.application.proofs import ProofError, take_checkpoint

        key = self.config.key_path
        if not key.exists():
            raise ProofError(f"no signing key at {key}; create one with 'insightlog keys init'")
        return take_checkpoint(
            self.ledger,
            key,
            outside_file=self.outside_file(),
            tsa_url=tsa_url,
            passphrase=self.config.key_passphrase,
        )

    def outside_file(self) -> Path:
        """Where this store's checkpoints are appended outside the database: the configured file,
        else ``insightlog-checkpoints/<origin>.jsonl`` (one file per store)."""
        from insightlog.application.proofs import default_checkpoint_file

        if self.config.checkpoint_file is not None:
            return self.config.checkpoint_file
        head = self.ledger.head()
        if head is None:
            from insightlog.application.proofs import ProofError

            raise ProofError("the ledger is empty: it has no checkpoints and no checkpoint file yet")
        return default_checkpoint_file(head.origin)

    def cosign(self, *, size: int | None = None, role: str = "witness") -> SignedCheckpoint:
        """Co-sign a stored checkpoint with the configured key, and append it outside."""
        from insightlog.application.proofs import append_outside, cosign_checkpoint

        signed = cosign_checkpoint(
            self.ledger, self.config.key_path, size=size, role=role, passphrase=self.config.key_passphrase
        )
        append_outside(self.outside_file(), signed)
        return signed

    def _after_write(self, result: AppendResult) -> CheckpointOutcome:
        """The house rule after a write that appended: checkpoint when a signing key exists.

        The write has committed by now, so a failure here never fails the command: it becomes a
        warning, and the next write (or ``insightlog checkpoint``) takes the checkpoint.
        """
        if not result.receipts or not self.config.key_path.exists():
            return CheckpointOutcome()
        try:
            signed, new = self.checkpoint()
        except Exception as exc:  # noqa: BLE001 - committed: report, never fail
            text = one_line(exc)
            return CheckpointOutcome(
                warning=f"the events were recorded, but no checkpoint was taken ({text}); "
                "the next write or 'insightlog checkpoint' takes it"
            )
        if not new:
            return CheckpointOutcome()
        cp = signed.checkpoint
        return CheckpointOutcome(cp.size, cp.root_hash.hex(), self.outside_file())

    def backup(self, dest: Path) -> tuple[int, int]:
        """Copy a live SQLite store to ``dest`` and check the copy; returns (events, pages)."""
        from dataclasses import replace

        from insightlog.application.ledger import open_ledger
        from insightlog.application.maintenance import BackupError, backup_sqlite, check_store

        settings = self.config.store
        pages = backup_sqlite(settings, dest)
        copy = open_ledger(replace(settings, sqlite_path=str(dest), database_url=None, read_only=True))
        try:
            check = check_store(copy)
        finally:
            copy.close()
        if not check.ok:
            raise BackupError(
                f"the copy at {dest} does not check out: {check.entries} entries, head {check.head_size}, "
                f"positions dense: {check.dense}"
            )
        return check.entries, pages

    def migrate(self, target: str, progress: Callable[[int], None] | None = None) -> tuple[Any, str]:
        """Copy this ledger to another store; returns the migration report and the target's name."""
        from insightlog.application.maintenance import MigrationError, migrate, open_target, target_settings

        settings = self.config.store
        to = target_settings(target, settings)
        if not settings.is_postgres and not Path(str(settings.sqlite_path)).is_file():
            raise MigrationError(f"no ledger at {settings.sqlite_path}; nothing to migrate")
        source = self.ledger
        if source.head() is None:
            raise MigrationError(f"{settings.describe()} holds no events; nothing to migrate")
        try:
            target_ledger = open_target(to)
        except InsightlogError:
            raise
        except Exception as exc:  # noqa: BLE001 - infrastructure errors at the boundary
            text = one_line(exc)
            raise MigrationError(f"cannot open the target ({to.describe()}): {text}") from None
        try:
            return migrate(source, target_ledger, progress), to.describe()
        finally:
            target_ledger.close()

    # ------------------------------------------------------------------ queries

    def services(self, as_of: AsOf | None = None, *, include_withdrawn: bool = False) -> list[str]:
        """The services of the store, sorted; as of a moment, those with an event recorded by then.

        A service registered in error (its ``ServiceRegistered`` withdrawn, by ``as_of`` when given)
        is left out unless ``include_withdrawn``; ``service_listing`` says which they are."""
        return [s.name for s in self.service_listing(as_of) if include_withdrawn or not s.registered_in_error]

    def service_listing(self, as_of: AsOf | None = None) -> list[ServiceListing]:
        """Every service (with an event recorded by ``as_of``, when given), sorted, each with the
        withdrawal of its registration known then (None for a service not registered in error)."""
        from insightlog.application.corrections import service_listing

        names = self.ledger.services()
        if as_of is not None:
            names = [n for n in names if any(e.recorded_at <= as_of.instant for e in self.entries(n))]
        return service_listing(self.ledger, names, as_of.instant if as_of else None)

    def has_service(self, service: str) -> bool:
        """Whether the store holds an event of ``service`` (one indexed read)."""
        return self.ledger.first_position(service) is not None

    def entries(self, service: str) -> list[Entry]:
        """A service's entries in log order (raises ``ServiceNotFoundError``)."""
        return self.ledger.read_service(service)

    def history(
        self,
        service: str,
        *,
        theme: str | None = None,
        as_of: AsOf | None = None,
        basis: Basis | None = None,
        hide_withdrawn: bool = False,
    ) -> list[dict[str, Any]]:
        """The readable history of a service: one row per event, as the log stood at ``as_of``.

        ``basis`` (definitions §3.5) says which instant counts as "recorded by ``as_of``": the
        provider's ``recorded_at`` (default), the store's append time (``ledger``), or the verified
        time of the first timestamped checkpoint covering the event (``proven``). Withdrawn rows are
        marked, and left out with ``hide_withdrawn`` (withdrawn as of ``as_of``)."""
        from insightlog.analysis.basis import RECORDED_BASIS
        from insightlog.analysis.history import history_rows

        return history_rows(
            self.entries(service),
            theme=theme,
            as_of=as_of.instant if as_of else None,
            basis=basis or RECORDED_BASIS,
            hide_withdrawn=hide_withdrawn,
        )

    def export(self, out: BinaryIO, *, service: str | None = None, with_provenance: bool = False) -> int:
        """Stream the interchange export to ``out``; returns the number of lines."""
        from insightlog.application.ledger import write_export

        return write_export(self.ledger, out, service=service, with_provenance=with_provenance)

    def export_file(
        self, path: Path, *, service: str | None = None, with_provenance: bool = False, overwrite: bool = False
    ) -> int:
        """Export to a file, written without following symbolic links; an existing file is
        replaced only when ``overwrite``, and only once the whole export is written."""
        from insightlog.safefile import write_with

        return write_with(
            path, lambda fh: self.export(fh, service=service, with_provenance=with_provenance), overwrite=overwrite
        )

    def service_vocabulary(self, service: str) -> ServiceVocabulary:
        """The themes, scopes, judgements and open actions a record form for ``service`` may offer.

        Kept between calls: a later call reads only the entries stored since (one indexed read
        when there are none), and folds them in; a new withdrawal refolds the whole log."""
        from insightlog.application.recording import VocabularyFold, fold_vocabulary
        from insightlog.errors import ServiceNotFoundError

        with self._vocabulary_lock:
            cached = self._vocabularies.get(service)
            if cached is not None:
                version, fold = cached
                new, version = self.ledger.service_entries_after(service, version)
                if VocabularyFold.needs_refold(new):
                    cached = None
                else:
                    for entry in new:
                        fold.add(entry)
            if cached is None:
                entries, version = self.ledger.service_entries_after(service, 0)
                if not entries:
                    raise ServiceNotFoundError(f"no events of service {service!r} in this store")
                fold = fold_vocabulary(service, entries)
            self._vocabularies[service] = (version, fold)
            return fold.result()

    def entry_detail(self, service: str, event_id: str) -> EntryDetail | None:
        """One entry of ``service`` with its withdrawal, corrections, amendments and supersessions."""
        from insightlog.application.recording import entry_detail

        return entry_detail(event_id, self.entries(service))

    def new_event_id(self) -> str:
        """A fresh event id (``il-<now>-<random>``), e.g. a form's idempotency key."""
        from insightlog.application.ledger import new_event_id

        return new_event_id(self.ledger.now())

    def now(self) -> datetime:
        """The ledger's clock."""
        return self.ledger.now()

    def stored_event(self, event_id: str) -> dict[str, Any] | None:
        """One stored event as the ledger object of interchange.md (None if unknown)."""
        from insightlog.application.ledger import stored_event_dict

        entry = self.ledger.find_entry(event_id)
        return stored_event_dict(entry) if entry else None

    def analysis_basis(self, name: str = "recorded", *, tsa_ca: Path | None = None) -> tuple[Basis, list[str]]:
        """The basis (definitions §3.5) called ``name`` for this store, with notes for the user:
        ``recorded``, ``ledger``, or ``proven`` (verified RFC 3161 times of the checkpoints)."""
        from insightlog.application.basis import store_basis

        return store_basis(self.ledger, name, tsa_ca_pem=tsa_ca.read_bytes() if tsa_ca else None)

    def analyse(
        self, service: str, as_of: AsOf, policy: Policy | None = None, basis: Basis | None = None
    ) -> dict[str, Any]:
        """The analysis document (analysis-output.md) of one service as of ``as_of``."""
        from insightlog.analysis.basis import RECORDED_BASIS
        from insightlog.analysis.engine import analyse
        from insightlog.analysis.policy import DEFAULT_POLICY

        return analyse(self.entries(service), service, as_of, policy or DEFAULT_POLICY, basis or RECORDED_BASIS)

    def explain(
        self, service: str, as_of: AsOf, policy: Policy | None = None, basis: Basis | None = None
    ) -> tuple[dict[str, Any], set[str]]:
        """The analysis with the evidence behind every figure, and the back-filled event ids."""
        from insightlog.analysis.basis import RECORDED_BASIS
        from insightlog.analysis.engine import explain
        from insightlog.analysis.policy import DEFAULT_POLICY

        entries = self.entries(service)
        detail = explain(entries, service, as_of, policy or DEFAULT_POLICY, basis or RECORDED_BASIS)
        return detail, {e.event_id for e in entries if e.is_backfill}

    def view_from_events(
        self, as_of: AsOf, service: str | None = None, basis: Basis | None = None
    ) -> list[dict[str, Any]]:
        """The governance view computed from the events (any moment, any store, any basis)."""
        from insightlog.application.governance import view_from_events

        return view_from_events(self.ledger, as_of, service, basis=basis)

    def provider_overview(self, services: Sequence[str], as_of: AsOf, basis: Basis | None = None) -> ProviderOverview:
        """The provider page of these services: lags, drift heat map, reviews, triggers, actions."""
        from insightlog.application.committee import provider_overview

        return provider_overview(self.ledger, services, as_of, basis)

    def theme_detail(self, service: str, theme: str, as_of: AsOf, basis: Basis | None = None) -> ThemeDetail | None:
        """One theme as of a date: drift with the evidence behind E, recognition, evidence list."""
        from insightlog.application.committee import theme_detail

        return theme_detail(self.ledger, service, theme, as_of, basis)

    def compare(self, service: str, then: AsOf, now: AsOf, basis: Basis | None = None) -> Comparison:
        """What leaders believed at two dates, theme by theme, and what was recorded in between."""
        from insightlog.application.committee import compare

        return compare(self.ledger, service, then, now, basis)

    def work_lists(self, services: Sequence[str], as_of: AsOf) -> WorkLists:
        """Reviews due and overdue, open actions by owner role, triggers of the last 90 days."""
        from insightlog.application.committee import work_lists

        return work_lists(self.ledger, services, as_of)

    def prove(self, event_id: str) -> dict[str, Any]:
        from insightlog.application.proofs import prove

        return prove(self.ledger, event_id)

    def verify(
        self,
        *,
        outside_files: Sequence[Path] = (),
        trusted_key_files: Sequence[Path] = (),
        trusted_witness_files: Sequence[Path] = (),
        tsa_ca: Path | None = None,
        expected_head: str | None = None,
    ) -> VerifyReport:
        """Verify the store against what was committed and the outside files; with trusted keys,
        every provider (and witness) signature must be by one of them; with ``expected_head``
        (``SIZE[:ROOT]``, as verify prints it) the store must still hold that head.

        Lines of a file that belong to other stores (another origin) are skipped and counted.
        Without an outside file the report says where this store's own file is."""
        from insightlog.application.proofs import ExpectedHead, load_outside, verify
        from insightlog.proof.keys import key_id, load_public_key

        expected = ExpectedHead.parse(expected_head) if expected_head is not None else None
        files = list(outside_files)
        from insightlog.aggregates.service import LedgerHead

        try:
            head = self.ledger.head()
        except InsightlogError:  # a damaged head row: verify itself names it
            head = None
        if not isinstance(head, LedgerHead):  # none yet, or a row forged under the head's id
            head = None
        origin = head.origin if head is not None else None
        outside = []
        skipped = 0
        for path in files:
            for cp in load_outside(path):
                if origin is not None and cp.checkpoint.origin != origin:
                    skipped += 1
                else:
                    outside.append(cp)
        trusted = {key_id(public): public for public in (load_public_key(p) for p in trusted_key_files)}
        witnesses = {key_id(public): public for public in (load_public_key(p) for p in trusted_witness_files)}
        report = verify(
            self.ledger,
            outside=outside,
            trusted_keys=trusted,
            trusted_witnesses=witnesses,
            tsa_ca_pem=tsa_ca.read_bytes() if tsa_ca else None,
            expected_head=expected,
        )
        if not files and head is not None and report.ok and self.outside_file().is_file():
            report.notes.append(
                f"not checked against the checkpoints kept outside the database: add --checkpoint {self.outside_file()}"
            )
        if skipped:
            report.notes.append(
                f"skipped {skipped} checkpoint(s) of other stores (another log origin) in the outside file(s)"
            )
        return report

    def pack(
        self,
        out: Path,
        *,
        service: str,
        as_of: AsOf,
        theme: str | None = None,
        tsa_ca: Path | None = None,
        basis: Basis | None = None,
    ) -> PackSummary:
        """Write an evidence pack an inspector checks with nothing but the pack; its selection and
        analysis are on ``basis`` (default ``recorded``), which its README names."""
        from insightlog.application.proofs import make_pack

        return make_pack(
            self.ledger,
            out,
            service=service,
            as_of=as_of,
            theme=theme,
            signing_key=self.config.key_path,
            tsa_ca_pem=tsa_ca.read_bytes() if tsa_ca else None,
            passphrase=self.config.key_passphrase,
            basis=basis,
        )

    def pack_bytes(self, *, service: str, as_of: AsOf, theme: str | None = None) -> tuple[bytes, PackSummary]:
        """An evidence pack as bytes (made in a private temporary folder, then removed)."""
        import tempfile

        with tempfile.TemporaryDirectory(prefix="insightlog-pack-") as work:
            summary = self.pack(Path(work) / "pack.zip", service=service, as_of=as_of, theme=theme)
            return summary.path.read_bytes(), summary

    def service_report_pdf(self, service: str, as_of: AsOf) -> bytes:
        """The governance report of one service printed to PDF through headless Chromium."""
        import tempfile

        from insightlog.report import print_pdf

        html = self.service_report(service, as_of)
        with tempfile.TemporaryDirectory(prefix="insightlog-report-") as work:
            source, target = Path(work) / "report.html", Path(work) / "report.pdf"
            source.write_text(html, encoding="utf-8")
            print_pdf(source, target, chromium=self.config.chromium)
            return target.read_bytes()

    def service_report(
        self,
        service: str,
        as_of: AsOf,
        *,
        policy: Policy | None = None,
        outside_files: Sequence[Path] = (),
        basis: Basis | None = None,
    ) -> str:
        """The governance report of one service, as one HTML document, on ``basis``."""
        from insightlog.application.proofs import load_outside
        from insightlog.application.reports import service_report_html

        outside = [cp for path in outside_files for cp in load_outside(path)]
        return service_report_html(self.ledger, service, as_of, policy=policy, outside=outside, basis=basis)

    def provider_report(
        self,
        as_of: AsOf,
        *,
        policy: Policy | None = None,
        outside_files: Sequence[Path] = (),
        basis: Basis | None = None,
    ) -> ProviderPages:
        """The provider page and each service's report, by file name, on ``basis``."""
        from insightlog.application.proofs import load_outside
        from insightlog.application.reports import provider_report_html

        outside = [cp for path in outside_files for cp in load_outside(path)]
        return provider_report_html(self.ledger, as_of, policy=policy, outside=outside, basis=basis)

    # ------------------------------------------------------------------ the read side

    @contextmanager
    def read_models(self, *, as_they_stand: bool = False) -> Iterator[ReadModels]:
        """The store's SQL read models; their database errors become one-line ``ReadModelError``s.
        ``as_they_stand``: read them without catching them up first (nothing written)."""
        from dataclasses import replace

        from insightlog.projections.readmodels import ReadModelError, ReadModels

        settings = replace(self.config.store, read_only=True) if as_they_stand else self.config.store
        try:
            with ReadModels(self.ledger, settings) as models:
                yield models
        except InsightlogError:
            raise
        except Exception as exc:
            from sqlalchemy.exc import SQLAlchemyError

            if isinstance(exc, SQLAlchemyError):
                detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
                raise ReadModelError(f"read models: {detail}") from None
            raise

    def view(
        self,
        service: str | None = None,
        as_of: AsOf | None = None,
        basis: Basis | None = None,
        *,
        verify: bool = False,
        catch_up: bool = True,
    ) -> GovernanceResult:
        """The governance view: from the read models now (caught up first, unless ``catch_up`` is
        False: then as they stand, with how far behind they are), from the events as of a moment
        or on a basis other than ``recorded`` (the read models keep the default basis; every row
        names the basis). Rows from the read models are checked against their digests before they
        are shown, or with ``verify`` recomputed from the events and compared (``result.checked``)."""
        from insightlog.projections.readmodels import EVENTS, GovernanceResult

        if basis is not None and not basis.is_default and as_of is None:
            as_of = self.now_as_of()
        if as_of is not None:
            return GovernanceResult(rows=self.view_from_events(as_of, service, basis), source=EVENTS, checked=EVENTS)
        with self.read_models(as_they_stand=not catch_up) as models:
            return models.governance(service, verify=verify)

    def verify_read_models(self, service: str | None = None) -> ReadModelCheck:
        """Recompute the read models from the events, in memory, and compare them row by row with
        the stored tables (every one, or one service's rows); nothing is written."""
        with self.read_models() as models:
            return models.verify(None if service is None else [service])

    def now_as_of(self) -> AsOf:
        """The ledger's clock now, as an as-of instant."""
        from insightlog.interchange.timeutil import AsOf, format_utc

        now = self.ledger.now()
        return AsOf(now, format_utc(now))

    def projections_status(self) -> Status:
        with self.read_models() as models:
            return models.status()

    def projections_rebuild(self) -> RunReport:
        with self.read_models() as models:
            return models.rebuild()

    def projections_update(self) -> RunReport:
        with self.read_models() as models:
            return models.catch_up()

    def taxonomies(self) -> dict[str, TaxonomyVersion]:
        """Every loaded quality-statement taxonomy version: shipped, then added to this ledger
        (the shipped ones alone where there is no store yet: listing creates none)."""
        from insightlog.application.taxonomy import load_taxonomies

        if not self.house.may_create and not self.config.store.backend.exists():
            return load_taxonomies(None)
        return load_taxonomies(self.ledger)

    def add_taxonomy(self, name: str, path: Path) -> tuple[TaxonomyVersion, bool]:
        """Add a taxonomy version from a CSV file; returns (version, whether it was added)."""
        from insightlog.application.taxonomy import add_taxonomy
        from insightlog.taxonomies import TaxonomyError

        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise TaxonomyError(f"{path.name}: not UTF-8 text ({exc.reason})") from None
        return add_taxonomy(self.ledger, name, text, origin=path.name)

    # ------------------------------------------------------------------ administration

    def ensure_roles(
        self,
        *,
        writer: str,
        auditor: str,
        projector: str = "insightlog_projector",
        writer_password: str | None = None,
        auditor_password: str | None = None,
        projector_password: str | None = None,
    ) -> RolesReport:
        """Create the least-privilege PostgreSQL roles of a provider group (writer, projector,
        auditor) and make their privileges exactly the documented set."""
        from insightlog.storage.roles import RolesError, ensure_roles

        url = self._roles_database("db roles")
        if self.config.store.read_only:
            raise RolesError("db roles changes the database; not with --read-only")
        return ensure_roles(
            url,
            writer=writer,
            auditor=auditor,
            projector=projector,
            writer_password=writer_password or self.config.writer_password,
            auditor_password=auditor_password or self.config.auditor_password,
            projector_password=projector_password or self.config.projector_password,
        )

    def check_roles(self, *, writer: str, auditor: str, projector: str = "insightlog_projector") -> RolesCheck:
        """Every privilege the three roles hold in the store's database, flagged where it is beyond
        the documented set (nothing is changed)."""
        from insightlog.storage.roles import check_roles

        url = self._roles_database("db roles --check")
        return check_roles(url, writer=writer, auditor=auditor, projector=projector)

    def _roles_database(self, what: str) -> str:
        from insightlog.storage.roles import RolesError

        store = self.config.store
        if not store.is_postgres or store.database_url is None:
            raise RolesError(
                f"{what} is about PostgreSQL roles; give --database-url postgresql://... (a SQLite file has no roles)"
            )
        return store.database_url

    @staticmethod
    def new_cipher_key() -> str:
        """A fresh AES-256 key, base64, for ``INSIGHTLOG_CIPHER_KEY``."""
        from insightlog.storage.cipher import new_key

        return new_key()


def load_policy(path: Path | None) -> Policy:
    """The analysis policy of a JSON or TOML file, or the default policy."""
    from insightlog.analysis.policy import DEFAULT_POLICY, PolicyError
    from insightlog.analysis.policy import load_policy as load

    if path is None:
        return DEFAULT_POLICY
    try:
        return load(path)
    except PolicyError as exc:
        raise PolicyError(f"policy {path}: {exc}") from None


class UseCaseError(InsightlogError):
    """Raised when a use case is asked for something it cannot do; the message is one line."""
