"""Services registered in error (interchange 1.1, definitions §3.4), read from a store.

A service whose ``ServiceRegistered`` is withdrawn was registered in error: the ledger refuses it
further events, and a listing shows it only when asked for every service, marked. The service
aggregate keeps its withdrawals (withdrawn id → the withdrawal's id and ``recorded_at``) and its
registrations, so the answer costs one aggregate read per service, and a read of the service's
entries only for a service registered in error (to say who withdrew it, when and why).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from insightlog.analysis.corrections import Withdrawal
from insightlog.interchange.kinds import REGISTRATION_KIND
from insightlog.interchange.timeutil import format_utc

if TYPE_CHECKING:
    from insightlog.application.ledger import Ledger


@dataclass(frozen=True, slots=True)
class ServiceListing:
    """One service of a listing; ``withdrawal`` is the withdrawal of its registration, if any."""

    name: str
    withdrawal: Withdrawal | None = None

    @property
    def registered_in_error(self) -> bool:
        return self.withdrawal is not None

    def as_dict(self) -> dict[str, Any]:
        """``{"service", "registered_in_error"}``: null, or which registration was withdrawn, by
        which event, when, by whom and why."""
        w = self.withdrawal
        return {
            "service": self.name,
            "registered_in_error": None
            if w is None
            else {
                "registration": w.withdraws,
                "by": w.event_id,
                "recorded_at": format_utc(w.recorded_at),
                "actor_role": w.actor_role,
                "actor_id": w.actor_id,
                "reason": w.reason,
            },
        }


def registration_withdrawal(ledger: Ledger, service: str, as_of: datetime | None = None) -> Withdrawal | None:
    """The withdrawal, recorded by ``as_of`` (any time when None), of a ``ServiceRegistered`` of
    ``service``: the service is then registered in error. None for a service never withdrawn."""
    from eventsourcing.application import AggregateNotFoundError

    from insightlog.aggregates.service import ServiceLedger

    try:
        aggregate: ServiceLedger = ledger.repository.get(ServiceLedger.create_id(service))
    except AggregateNotFoundError:
        return None
    registrations = aggregate.registrations
    for target, (withdrawal_id, recorded_text) in aggregate.withdrawn.items():
        if as_of is not None and datetime.fromisoformat(recorded_text) > as_of:
            continue
        if registrations is not None:
            hit = target in registrations
        else:  # restored from a snapshot older than 1.1: ask the stored event
            found = ledger.find_entry(target)
            hit = found is not None and found.kind == REGISTRATION_KIND
        if hit:
            entry = ledger.find_entry(withdrawal_id)
            if entry is None:  # the aggregate names it, so the store holds it
                continue
            reason = entry.payload.get("reason")
            return Withdrawal(
                event_id=entry.event_id,
                withdraws=target,
                service=service,
                recorded_at=entry.recorded_at,
                actor_role=entry.actor_role,
                actor_id=entry.actor_id,
                reason=reason if isinstance(reason, str) else "",
                position=entry.position,
                source=entry.source,
            )
    return None


def service_listing(ledger: Ledger, names: list[str], as_of: datetime | None = None) -> list[ServiceListing]:
    """``names`` in order, each with the withdrawal of its registration known at ``as_of``."""
    return [ServiceListing(name, registration_withdrawal(ledger, name, as_of)) for name in names]
