"""Deterministic, realistic histories in the interchange format, for the benchmarks.

``generate(services, events_per_service, seed)`` yields JSON lines (no newline) of ``services``
services with ``events_per_service`` events each, interleaved across services in recorded order,
with the mix of kinds, payload shapes and time patterns of the worked example
(``examples/harbour_home_care.jsonl``):

* each service starts with ``ServiceRegistered``, its ``ThemeDefined`` events (parents first) and
  two ``ReviewCadenceSet`` events;
* then evidence (audits with their scored sections, spot checks, validation samples, incidents,
  complaints, staff feedback, call-monitoring metrics) with teams, judgements recorded and revised
  (``supersedes`` names the previous judgement of the theme; some carry exceptions), amendments of
  earlier evidence of the same service, monthly and quarterly reviews, actions, variances and
  escalations, in roughly the example's proportions;
* ``observed_at`` is at or before ``recorded_at`` (hours for most evidence, weeks for a few late
  entries); ``compliance_pct`` always agrees with ``evidence_score``'s band; every timestamp lies
  between 2016-07-01 and 2026-06-30, so nothing is in the future.

The output depends only on the arguments (``random.Random`` seeded per service with a string).

Command line::

    python bench/generate.py --services 100 --events 1000 --seed 1 -o history.jsonl
"""

from __future__ import annotations

import argparse
import heapq
import random
import sys
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from insightlog.interchange.entry import ENVELOPE_FIELDS
from insightlog.interchange.validation import compliance_band

START = datetime(2016, 7, 1, 8, 0, tzinfo=UTC)
END = datetime(2026, 6, 30, 18, 0, tzinfo=UTC)
SPAN_SECONDS = int((END - START).total_seconds())

TEAMS = ("north", "south", "east")
# (theme, parent, label, quality statements), parents before children.
THEMES: tuple[tuple[str, str | None, str, list[str]], ...] = (
    ("medicines", None, "Medicines support in people's homes", ["S8"]),
    ("medicines.mar_charts", "medicines", "MAR chart signed at every medicines call", ["S8", "W5"]),
    ("medicines.time_critical", "medicines", "Time-critical medicines given on time", ["S8"]),
    ("safeguarding", None, "Safeguarding", ["S3"]),
    (
        "safeguarding.referrals",
        "safeguarding",
        "Safeguarding concerns referred to the local authority within 24 hours",
        ["S3", "W5"],
    ),
    ("call_punctuality", None, "Calls on time and of full planned length", ["S6", "R2"]),
)
ROOTS = ("medicines", "safeguarding", "call_punctuality")
LEAVES = ("medicines.mar_charts", "medicines.time_critical", "safeguarding.referrals", "call_punctuality")
LEAF_ROOT = {
    "medicines.mar_charts": "medicines",
    "medicines.time_critical": "medicines",
    "safeguarding.referrals": "safeguarding",
    "call_punctuality": "call_punctuality",
}

# Body kinds and weights, from the worked example (an audit is AuditCompleted + 2 sections).
BODY_WEIGHTS: tuple[tuple[str, int], ...] = (
    ("SpotCheckRecorded", 8),
    ("ValidationSampled", 8),
    ("ReviewHeld", 7),
    ("JudgementRecorded", 3),
    ("JudgementRevised", 6),
    ("audit", 3),
    ("FeedbackReceived", 3),
    ("IncidentRecorded", 3),
    ("RotaMetricRecorded", 3),
    ("ComplaintReceived", 3),
    ("EvidenceAmended", 2),
    ("VarianceIdentified", 1),
    ("ActionAssigned", 1),
    ("ActionUpdated", 1),
    ("ActionClosed", 1),
    ("EscalationRaised", 1),
)
_KINDS = [k for k, _ in BODY_WEIGHTS]
_CUM: list[int] = []
_total = 0
for _, _w in BODY_WEIGHTS:
    _total += _w
    _CUM.append(_total)

ENVELOPE = ENVELOPE_FIELDS


def _ts(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def service_name(index: int) -> str:
    return f"Bench Service {index:04d}"


class _Service:
    """Generates one service's events in recorded order."""

    def __init__(self, name: str, index: int, events: int, seed: int) -> None:
        self.name = name
        self.index = index
        self.events = events
        self.rng = random.Random(f"insightlog-bench:{seed}:{index}:{name}")
        self.prefix = f"B{seed}-{index:04d}-"
        self.count = 0
        self.judgements: dict[str, str] = {}  # theme -> latest judgement id
        self.amendable: list[tuple[str, str, int | None]] = []  # (event id, kind, items_checked)
        self.evidence: list[str] = []
        self.open_actions: list[str] = []
        self.action_seq = 0
        self.audit_seq = 0
        # Each service starts a few minutes after the previous one, so services interleave.
        self.offset = (index * 337) % 3600

    # -- helpers -----------------------------------------------------------------------------

    def _recorded(self, i: int) -> datetime:
        # Events spread evenly over the ten years, with the service's own small offset.
        step = SPAN_SECONDS / max(self.events, 1)
        return START + timedelta(seconds=int(i * step) + self.offset)

    def _id(self) -> str:
        self.count += 1
        return f"{self.prefix}{self.count:06d}"

    def _event(
        self,
        kind: str,
        recorded: datetime,
        payload: dict[str, Any],
        *,
        theme: str | None = None,
        team: str | None = None,
        role: str = "registered_manager",
        actor: str = "RM-1",
        record: str | None = None,
        lag: timedelta = timedelta(0),
    ) -> dict[str, Any]:
        return {
            "event_id": self._id(),
            "service": self.name,
            "theme": theme,
            "location": None,
            "team": team,
            "shift": None,
            "kind": kind,
            "actor_role": role,
            "actor_id": actor,
            "record": record,
            "observed_at": _ts(recorded - lag),
            "recorded_at": _ts(recorded),
            "payload": payload,
        }

    def _lag(self) -> timedelta:
        r = self.rng.random()
        if r < 0.03:  # a late entry, typed up from paper weeks afterwards
            return timedelta(days=self.rng.randint(14, 90))
        if r < 0.25:
            return timedelta(minutes=0)
        return timedelta(minutes=self.rng.randint(30, 36 * 60))

    def _counts(self) -> tuple[int, int, float, int]:
        checked = self.rng.choice((5, 10, 12, 20))
        compliant = self.rng.randint(max(0, checked // 3), checked)
        pct = round(100.0 * compliant / checked, 1)
        return checked, compliant, pct, compliance_band(pct)

    # -- setup -------------------------------------------------------------------------------

    def _setup(self) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
        """(kind, payload, envelope options) of the opening events."""
        out: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
            (
                "ServiceRegistered",
                {
                    "framework": {
                        "name": "CQC single assessment framework",
                        "taxonomy_version": "SAF-2024 (34 quality statements)",
                    },
                    "service_type": f"domiciliary care agency, about {self.rng.randint(40, 400)} people supported, three care rounds",
                    "scopes": [f"team:{t}" for t in TEAMS],
                },
                {},
            )
        ]
        for theme, parent, label, statements in THEMES:
            out.append(
                (
                    "ThemeDefined",
                    {
                        "theme": theme,
                        "parent": parent,
                        "scope_by": "team",
                        "label": label,
                        "quality_statements": statements,
                    },
                    {"theme": theme},
                )
            )
        out.append(
            (
                "ReviewCadenceSet",
                {
                    "level": "rm_monthly",
                    "interval_days": 31,
                    "anchor_date": "2016-07-01",
                    "owner_role": "registered_manager",
                },
                {},
            )
        )
        out.append(
            (
                "ReviewCadenceSet",
                {
                    "level": "senior_quarterly",
                    "interval_days": 92,
                    "anchor_date": "2016-07-01",
                    "owner_role": "senior_leader",
                },
                {"role": "senior_leader", "actor": "SL-1"},
            )
        )
        return out

    # -- body --------------------------------------------------------------------------------

    def _evidence(self, kind: str, recorded: datetime) -> dict[str, Any]:
        rng = self.rng
        team = rng.choice(TEAMS)
        lag = self._lag()
        if kind == "SpotCheckRecorded":
            theme = rng.choice(LEAVES)
            checked, compliant, pct, score = self._counts()
            payload = {
                "evidence_category": rng.choice(("processes", "observation")),
                "source_type": "spot_check",
                "evidence_score": score,
                "summary": f"{team.title()} round: {compliant} of {checked} checked items compliant",
                "items_checked": checked,
                "items_compliant": compliant,
                "compliance_pct": pct,
            }
            ev = self._event(
                kind,
                recorded,
                payload,
                theme=theme,
                team=team,
                role="deputy_manager",
                actor=f"DM-{rng.randint(1, 4)}",
                record=rng.choice(("local_improvement_log", "call_log_check", "safeguarding_log")),
                lag=lag,
            )
            self.amendable.append((ev["event_id"], kind, checked))
        elif kind == "ValidationSampled":
            theme = rng.choice(LEAVES)
            checked, compliant, pct, score = self._counts()
            payload = {
                "evidence_category": "processes",
                "source_type": "validation",
                "evidence_score": score,
                "summary": f"Live records sampled in homes ({team}): {compliant} of {checked} as expected",
                "items_checked": checked,
                "items_compliant": compliant,
                "compliance_pct": pct,
            }
            ev = self._event(
                kind,
                recorded,
                payload,
                theme=theme,
                team=team,
                role="quality_lead",
                actor="QL-1",
                record="practice_validation_sheet",
                lag=lag,
            )
            self.amendable.append((ev["event_id"], kind, checked))
        elif kind == "RotaMetricRecorded":
            on_time = rng.randint(78, 97)
            full_length = rng.randint(82, 99)
            score = 4 if on_time >= 92 and full_length >= 95 else 3 if on_time >= 85 and full_length >= 90 else 2
            payload = {
                "evidence_category": "processes",
                "source_type": "metric",
                "evidence_score": score,
                "summary": f"Electronic call monitoring, month: {on_time}% of calls within 30 min of plan, {full_length}% of full length",
                "on_time_pct": on_time,
                "full_length_pct": full_length,
                "scoring_rule": "4: on-time>=92 and full-length>=95; 3: on-time>=85 and full-length>=90; else 2",
            }
            ev = self._event(
                kind,
                recorded,
                payload,
                theme="call_punctuality",
                role="operations_manager",
                actor="OM-1",
                record="call_monitoring_report",
                lag=timedelta(hours=8),
            )
            self.amendable.append((ev["event_id"], kind, None))
        else:
            theme = rng.choice(LEAVES)
            category, source, record = {
                "IncidentRecorded": ("outcomes", "incident", "incident_log"),
                "ComplaintReceived": ("people_experience", "complaint", "complaints_log"),
                "FeedbackReceived": ("staff_leader_feedback", "staff_feedback", "carer_supervision_record"),
            }[kind]
            payload = {
                "evidence_category": category,
                "source_type": source,
                "evidence_score": rng.choice((1, 2, 2, 2, 3, 3)),
                "summary": f"{source.replace('_', ' ').capitalize()} about {theme.replace('_', ' ')} on the {team} round",
            }
            if kind == "IncidentRecorded":
                payload["harm"] = rng.choice(("no_harm", "near_miss", "low_harm"))
            ev = self._event(
                kind,
                recorded,
                payload,
                theme=theme,
                team=team,
                role=rng.choice(("team_leader", "registered_manager")),
                actor=f"TL-{rng.randint(1, 3)}",
                record=record,
                lag=lag,
            )
            self.amendable.append((ev["event_id"], kind, None))
        self.evidence.append(ev["event_id"])
        del self.evidence[:-20]
        del self.amendable[:-40]
        return ev

    def _audit(self, recorded: datetime) -> list[dict[str, Any]]:
        rng = self.rng
        team = rng.choice(TEAMS)
        self.audit_seq += 1
        audit_id = f"{self.prefix}MAR-AUDIT-{self.audit_seq:05d}"
        lag = timedelta(hours=rng.randint(2, 30))
        sections = []
        total_checked = total_ok = 0
        for leaf, checked in (("mar_charts", 20), ("time_critical", 10)):
            compliant = rng.randint(checked // 3, checked)
            total_checked += checked
            total_ok += compliant
            pct = round(100.0 * compliant / checked, 1)
            sections.append((leaf, checked, compliant, pct))
        headline = round(100.0 * total_ok / total_checked, 1)
        completed = self._event(
            "AuditCompleted",
            recorded,
            {
                "audit_id": audit_id,
                "items_checked": total_checked,
                "items_compliant": total_ok,
                "headline_pct": headline,
                "headline_score": compliance_band(headline),
                "note": "dashboard headline across both sections; a summary, not evidence",
            },
            theme="medicines",
            team=team,
            role="quality_lead",
            actor="QL-1",
            record="medicines_audit_tool",
            lag=lag,
        )
        self.amendable.append((completed["event_id"], "AuditCompleted", None))
        out = [completed]
        for leaf, checked, compliant, pct in sections:
            ev = self._event(
                "AuditSectionScored",
                recorded,
                {
                    "evidence_category": "processes",
                    "source_type": "audit",
                    "evidence_score": compliance_band(pct),
                    "summary": f"{audit_id} section {leaf}: {compliant}/{checked}",
                    "audit_id": audit_id,
                    "items_checked": checked,
                    "items_compliant": compliant,
                    "compliance_pct": pct,
                },
                theme=f"medicines.{leaf}",
                team=team,
                role="quality_lead",
                actor="QL-1",
                record="medicines_audit_tool",
                lag=lag,
            )
            self.amendable.append((ev["event_id"], "AuditSectionScored", checked))
            self.evidence.append(ev["event_id"])
            out.append(ev)
        return out

    def _judgement(self, kind: str, recorded: datetime) -> dict[str, Any]:
        rng = self.rng
        theme = rng.choice(ROOTS) if rng.random() < 0.85 else rng.choice(LEAVES)
        previous = self.judgements.get(theme)
        if kind == "JudgementRevised" and previous is None:
            kind = "JudgementRecorded"
        exceptions: list[dict[str, Any]] = []
        if rng.random() < 0.35:
            if rng.random() < 0.5:
                exceptions.append(
                    {
                        "theme": None,
                        "scope": f"team:{rng.choice(TEAMS)}",
                        "score": rng.choice((1, 2, 2, 3)),
                        "note": "named exception on one round",
                    }
                )
            else:
                leaves = [leaf for leaf in LEAVES if LEAF_ROOT[leaf] == theme and leaf != theme]
                if leaves:
                    exceptions.append(
                        {
                            "theme": rng.choice(leaves),
                            "scope": None,
                            "score": rng.choice((2, 2, 3)),
                            "note": "weakness hidden by the headline",
                        }
                    )
        payload = {
            "score": rng.choice((2, 3, 3, 3, 4)),
            "confidence": rng.choice(("high", "high", "qualified", "further_evidence_needed")),
            "exceptions": exceptions,
            "supersedes": previous,
            "narrative": f"Position on {theme.replace('_', ' ')} after the latest evidence and reviews.",
        }
        ev = self._event(
            kind,
            recorded,
            payload,
            theme=theme,
            role=rng.choice(("registered_manager", "registered_manager", "senior_leader")),
            actor="RM-1",
            record=rng.choice(("governance_summary", "board_quality_report", "self_assessment_review_note")),
            lag=timedelta(0) if rng.random() < 0.9 else timedelta(days=rng.randint(1, 20)),
        )
        self.judgements[theme] = ev["event_id"]
        return ev

    def _amendment(self, recorded: datetime) -> dict[str, Any] | None:
        if not self.amendable:
            return None
        rng = self.rng
        target, kind, checked = rng.choice(self.amendable)
        if kind == "AuditCompleted":
            compliant = rng.randint(10, 30)
            pct = round(100.0 * compliant / 30, 1)
            changes: dict[str, Any] = {
                "items_compliant": compliant,
                "headline_pct": pct,
                "headline_score": compliance_band(pct),
            }
            theme = "medicines"
        elif checked:
            compliant = rng.randint(0, checked)
            pct = round(100.0 * compliant / checked, 1)
            changes = {"items_compliant": compliant, "compliance_pct": pct, "evidence_score": compliance_band(pct)}
            theme = None
        else:
            changes = {"evidence_score": rng.randint(1, 4)}
            theme = None
        return self._event(
            "EvidenceAmended",
            recorded,
            {"amends": target, "changes": changes, "reason": "entries ticked as done had no signature on the record"},
            theme=theme or "medicines.mar_charts",
            role="quality_lead",
            actor="QL-1",
            record="medicines_audit_tool",
        )

    def _other(self, kind: str, recorded: datetime) -> dict[str, Any] | None:
        rng = self.rng
        if kind == "ReviewHeld":
            level = "rm_monthly" if rng.random() < 0.8 else "senior_quarterly"
            return self._event(
                kind,
                recorded,
                {
                    "level": level,
                    "themes_reviewed": list(ROOTS),
                    "summary": "Themes reviewed against the month's evidence.",
                },
                role="registered_manager" if level == "rm_monthly" else "senior_leader",
                actor="RM-1" if level == "rm_monthly" else "SL-1",
                record="governance_summary" if level == "rm_monthly" else "senior_quarterly_review",
                lag=timedelta(hours=2) if rng.random() < 0.9 else timedelta(days=rng.randint(8, 20)),
            )
        if kind == "VarianceIdentified":
            root = rng.choice(ROOTS)
            return self._event(
                kind,
                recorded,
                {
                    "stated_position_ref": self.judgements.get(root),
                    "stated_score": 3,
                    "evidence_refs": self.evidence[-4:],
                    "finding": "Repeated weakness in the detail under a satisfactory headline.",
                },
                theme=rng.choice(LEAVES),
                role="quality_lead",
                actor="QL-1",
                record="assurance_variance_log",
            )
        if kind == "ActionAssigned":
            self.action_seq += 1
            action_id = f"{self.prefix}ACT-{self.action_seq:05d}"
            self.open_actions.append(action_id)
            due = (recorded + timedelta(days=rng.randint(20, 90))).date().isoformat()
            return self._event(
                kind,
                recorded,
                {
                    "action_id": action_id,
                    "owner_role": "team_leader",
                    "due": due,
                    "description": "Supervision on the weak practice; weekly repeat checks",
                },
                theme=rng.choice(LEAVES),
                team=rng.choice(TEAMS),
                record="local_improvement_log",
            )
        if kind in ("ActionUpdated", "ActionClosed"):
            if not self.open_actions:
                return None
            if kind == "ActionUpdated":
                action_id = rng.choice(self.open_actions)
                payload = {"action_id": action_id, "status": "in_progress", "note": "Supervision sessions half done"}
            else:
                action_id = self.open_actions.pop(0)
                payload = {"action_id": action_id, "outcome": "Repeat checks meet the standard"}
            return self._event(
                kind,
                recorded,
                payload,
                theme=rng.choice(LEAVES),
                role="team_leader",
                actor="TL-1",
                record="local_improvement_log",
            )
        if kind == "EscalationRaised":
            return self._event(
                kind,
                recorded,
                {
                    "from_role": "senior_leader",
                    "to": "registered_manager",
                    "reason": "A stated position disagrees with the evidence that continues",
                    "requested_measures": ["named exception restored", "weekly log check until 90 days clean"],
                    "refs": self.evidence[-3:],
                },
                theme=rng.choice(ROOTS),
                team=rng.choice(TEAMS),
                role="senior_leader",
                actor="SL-1",
                record="senior_quarterly_review",
                lag=timedelta(hours=5),
            )
        raise AssertionError(kind)

    def _body_kind(self) -> str:
        r = self.rng.random() * _total
        for kind, cum in zip(_KINDS, _CUM, strict=True):
            if r < cum:
                return kind
        return _KINDS[-1]

    def events_in_order(self) -> Iterator[dict[str, Any]]:
        produced = 0
        setup = self._setup()[: self.events]
        for kind, payload, opts in setup:
            recorded = self._recorded(produced)
            yield self._event(kind, recorded, payload, lag=timedelta(0), **opts)
            produced += 1
        while produced < self.events:
            recorded = self._recorded(produced)
            kind = self._body_kind()
            if kind == "audit":
                if self.events - produced < 3:
                    continue
                for ev in self._audit(recorded):
                    yield ev
                produced += 3
                continue
            if kind in ("JudgementRecorded", "JudgementRevised"):
                ev = self._judgement(kind, recorded)
            elif kind == "EvidenceAmended":
                ev = self._amendment(recorded)
            elif kind in (
                "ReviewHeld",
                "VarianceIdentified",
                "ActionAssigned",
                "ActionUpdated",
                "ActionClosed",
                "EscalationRaised",
            ):
                ev = self._other(kind, recorded)
            else:
                ev = self._evidence(kind, recorded)
            if ev is None:
                continue
            yield ev
            produced += 1


def _keyed(service: _Service) -> Iterator[tuple[str, int, int, dict[str, Any]]]:
    for n, ev in enumerate(service.events_in_order()):
        yield ev["recorded_at"], service.index, n, ev


def generate_services(spec: Sequence[tuple[str, int]], seed: int) -> Iterator[str]:
    """JSON lines of the named services (name, number of events), merged in recorded order."""
    streams = [_keyed(_Service(name, i, events, seed)) for i, (name, events) in enumerate(spec)]
    for _, _, _, ev in heapq.merge(*streams):
        yield orjson.dumps(ev).decode("utf-8")


def generate(services: int, events_per_service: int, seed: int) -> Iterator[str]:
    """``services`` services × ``events_per_service`` events, in recorded order, as JSON lines."""
    return generate_services([(service_name(i), events_per_service) for i in range(services)], seed)


def write_lines(lines: Iterable[str], path: Path) -> int:
    """Write JSON lines to ``path``; returns how many."""
    count = 0
    with path.open("w", encoding="utf-8") as fh:
        for line in lines:
            fh.write(line)
            fh.write("\n")
            count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--services", type=int, default=10)
    parser.add_argument("--events", type=int, default=100, help="events per service")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    args = parser.parse_args(argv)
    lines = generate(args.services, args.events, args.seed)
    if args.output is None:
        for line in lines:
            sys.stdout.write(line + "\n")
        return 0
    count = write_lines(lines, args.output)
    print(f"wrote {count} events ({args.services} services × {args.events}) to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
