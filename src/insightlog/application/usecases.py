"""The use cases every door calls: the CLI, the web application and the importers.

Each method is one thing a user does. Commands load, make one change and save, then apply the
house rules that follow a write (the automatic checkpoint); queries return plain data (lists,
dicts and dataclasses, never aggregates). A door parses its input, makes one call here and renders
the result; it never touches the store itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from insightlog.errors import InsightlogError, one_line

if TYPE_CHECKING:
    from insightlog.analysis.policy import Policy
    from insightlog.application.ledger import AppendResult, Ledger
    from insightlog.application.proofs import PackSummary, VerifyReport
    from insightlog.application.reports import ProviderPages
    from insightlog.bootstrap import Config, House
    from insightlog.interchange.entry import Entry
    from insightlog.interchange.timeutil import AsOf
    from insightlog.proof.checkpoint import SignedCheckpoint


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

    def record(self, fields: dict[str, Any]) -> WriteOutcome:
        """Record one event live (``recorded_at`` from the ledger's clock), then checkpoint.

        A missing ``event_id`` is generated; give one (an idempotency key) so that a retry after a
        lost answer never records the event twice: the same id with the same content is skipped.
        """
        from insightlog.application.ledger import new_event_id

        event = dict(fields)
        if not event.get("event_id"):
            event["event_id"] = new_event_id(self.ledger.now())
        result = self.ledger.record(event)
        return WriteOutcome(result, self._after_write(result))

    def import_lines(
        self,
        lines: Iterable[bytes | str],
        *,
        source_name: str,
        backfill: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> WriteOutcome:
        """Import interchange lines, all or nothing, then checkpoint."""
        result = self.ledger.import_lines(lines, source_name=source_name, backfill=backfill, progress=progress)
        return WriteOutcome(result, self._after_write(result))

    def import_file(self, path: Path, *, backfill: bool = False, lines: Iterable[bytes] | None = None) -> WriteOutcome:
        """Import a JSON Lines file (``lines`` may wrap its lines, e.g. for a progress bar)."""
        from insightlog.application.ledger import read_file_lines

        return self.import_lines(lines if lines is not None else read_file_lines(path), source_name=path.name, backfill=backfill)

    def checkpoint(self, *, tsa_url: str | None = None) -> tuple[SignedCheckpoint, bool]:
        """Sign the current tree head with the provider's key; store it and append it outside."""
        from insightlog.application.proofs import ProofError, take_checkpoint

        key = self.config.key_path
        if not key.exists():
            raise ProofError(f"no signing key at {key}; create one with 'insightlog keys init'")
        return take_checkpoint(
            self.ledger,
            key,
            outside_file=self.config.checkpoint_file,
            tsa_url=tsa_url,
            passphrase=self.config.key_passphrase,
        )

    def cosign(self, *, size: int | None = None, role: str = "witness") -> SignedCheckpoint:
        """Co-sign a stored checkpoint with the configured key, and append it outside."""
        from insightlog.application.proofs import append_outside, cosign_checkpoint

        signed = cosign_checkpoint(self.ledger, self.config.key_path, size=size, role=role, passphrase=self.config.key_passphrase)
        append_outside(self.config.checkpoint_file, signed)
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
        return CheckpointOutcome(cp.size, cp.root_hash.hex(), self.config.checkpoint_file)

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
        except Exception as exc:  # infrastructure errors at the boundary
            text = one_line(exc)
            raise MigrationError(f"cannot open the target ({to.describe()}): {text}") from None
        try:
            return migrate(source, target_ledger, progress), to.describe()
        finally:
            target_ledger.close()

    # ------------------------------------------------------------------ queries

    def services(self) -> list[str]:
        return self.ledger.services()

    def entries(self, service: str) -> list[Entry]:
        """A service's entries in log order (raises ``ServiceNotFoundError``)."""
        return self.ledger.read_service(service)

    def history(self, service: str, *, theme: str | None = None, as_of: AsOf | None = None) -> list[dict[str, Any]]:
        """The readable history of a service: one row per event, as the log stood at ``as_of``."""
        from insightlog.analysis.history import history_rows

        return history_rows(self.entries(service), theme=theme, as_of=as_of.instant if as_of else None)

    def export(self, out: BinaryIO, *, service: str | None = None, with_provenance: bool = False) -> int:
        """Stream the interchange export to ``out``; returns the number of lines."""
        from insightlog.application.ledger import write_export

        return write_export(self.ledger, out, service=service, with_provenance=with_provenance)

    def stored_event(self, event_id: str) -> dict[str, Any] | None:
        """One stored event as the ledger object of interchange.md (None if unknown)."""
        from insightlog.application.ledger import stored_event_dict

        entry = self.ledger.find_entry(event_id)
        return stored_event_dict(entry) if entry else None

    def analyse(self, service: str, as_of: AsOf, policy: Policy | None = None) -> dict[str, Any]:
        """The analysis document (analysis-output.md) of one service as of ``as_of``."""
        from insightlog.analysis.engine import analyse
        from insightlog.analysis.policy import DEFAULT_POLICY

        return analyse(self.entries(service), service, as_of, policy or DEFAULT_POLICY)

    def explain(self, service: str, as_of: AsOf, policy: Policy | None = None) -> tuple[dict[str, Any], set[str]]:
        """The analysis with the evidence behind every figure, and the back-filled event ids."""
        from insightlog.analysis.engine import explain
        from insightlog.analysis.policy import DEFAULT_POLICY

        entries = self.entries(service)
        return explain(entries, service, as_of, policy or DEFAULT_POLICY), {e.event_id for e in entries if e.is_backfill}

    def view_from_events(self, as_of: AsOf, service: str | None = None) -> list[dict[str, Any]]:
        """The governance view computed from the events (any moment, any store)."""
        from insightlog.analysis.governance import view_from_events

        return view_from_events(self.ledger, as_of, service)

    def prove(self, event_id: str) -> dict[str, Any]:
        from insightlog.application.proofs import prove

        return prove(self.ledger, event_id)

    def verify(
        self,
        *,
        outside_files: Sequence[Path] = (),
        trusted_key_files: Sequence[Path] = (),
        tsa_ca: Path | None = None,
    ) -> VerifyReport:
        """Verify the store against what was committed, the outside files and the trusted keys."""
        from insightlog.application.proofs import load_outside, verify
        from insightlog.proof.keys import key_id, load_public_key

        outside = [cp for path in outside_files for cp in load_outside(path)]
        trusted: dict[str, Any] = {}
        for path in trusted_key_files:
            public = load_public_key(path)
            trusted[key_id(public)] = public
        return verify(self.ledger, outside=outside, trusted_keys=trusted, tsa_ca_pem=tsa_ca.read_bytes() if tsa_ca else None)

    def pack(self, out: Path, *, service: str, as_of: AsOf, theme: str | None = None, tsa_ca: Path | None = None) -> PackSummary:
        """Write an evidence pack an inspector checks with nothing but the pack."""
        from insightlog.application.proofs import ProofError, make_pack

        if out.exists() or out.is_symlink():
            raise ProofError(f"{out} exists; a pack is never overwritten")
        return make_pack(
            self.ledger,
            out,
            service=service,
            as_of=as_of,
            theme=theme,
            signing_key=self.config.key_path,
            tsa_ca_pem=tsa_ca.read_bytes() if tsa_ca else None,
            passphrase=self.config.key_passphrase,
        )

    def service_report(
        self, service: str, as_of: AsOf, *, policy: Policy | None = None, outside_files: Sequence[Path] = ()
    ) -> str:
        """The governance report of one service, as one HTML document."""
        from insightlog.application.proofs import load_outside
        from insightlog.application.reports import service_report_html

        outside = [cp for path in outside_files for cp in load_outside(path)]
        return service_report_html(self.ledger, service, as_of, policy=policy, outside=outside)

    def provider_report(
        self, as_of: AsOf, *, policy: Policy | None = None, outside_files: Sequence[Path] = ()
    ) -> ProviderPages:
        """The provider page and each service's report, by file name."""
        from insightlog.application.proofs import load_outside
        from insightlog.application.reports import provider_report_html

        outside = [cp for path in outside_files for cp in load_outside(path)]
        return provider_report_html(self.ledger, as_of, policy=policy, outside=outside)


class UseCaseError(InsightlogError):
    """Raised when a use case is asked for something it cannot do; the message is one line."""
