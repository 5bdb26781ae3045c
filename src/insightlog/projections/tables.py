"""The read-model tables (SQLAlchemy Core), in the same database as the event store.

Every column is Text or Integer so the same schema works on SQLite and PostgreSQL; instants are
ISO text ``YYYY-MM-DDTHH:MM:SSZ``, dates ``YYYY-MM-DD`` and months ``YYYY-MM`` (text order is
time order), lists and objects JSON text. ``docs/read-models.md`` documents every column.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
)

# 2: rm_service_status.dirty (services recomputed once per run, after the run's chunks), and
#    rm_service_status.as_of NULL for a service whose events are indexed but not yet computed.
# 3: no (service, theme) index on rm_events nor (service, theme, month) on rm_drift: they doubled
#    the cost of writing those tables; a query by theme goes through the service's own rows.
# 4: rm_service_status.digests, the digests of each service's rows (``rows.service_digests``),
#    which readers check before showing them (docs/read-models.md, "Verifying the read models").
SCHEMA_VERSION = 4
PROJECTION = "governance"

metadata = MetaData()

tracking = Table(
    "rm_tracking",
    metadata,
    Column("projection", Text, primary_key=True),
    Column("position", Integer, nullable=False),
    Column("entry_position", Integer, nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("definitions_version", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
)

service_status = Table(
    "rm_service_status",
    metadata,
    Column("service", Text, primary_key=True),
    Column("as_of", Text),
    Column("events", Integer, nullable=False),
    Column("last_entry_position", Integer, nullable=False),
    Column("updated_position", Integer, nullable=False),
    Column("taxonomy_version", Text),
    Column("definitions_version", Text, nullable=False),
    Column("isolated_themes", Text, nullable=False),
    Column("overdue_reviews", Text, nullable=False),
    Column("error", Text),
    Column("dirty", Integer, nullable=False, server_default="0"),
    Column("digests", Text),
)

governance = Table(
    "rm_governance",
    metadata,
    Column("service", Text, nullable=False),
    Column("ordinal", Integer, nullable=False),
    Column("as_of", Text, nullable=False),
    Column("taxonomy_version", Text),
    Column("key_question", Text),
    Column("quality_statement", Text),
    Column("theme", Text, nullable=False),
    Column("label", Text),
    Column("parent", Text),
    Column("leaf", Integer, nullable=False),
    Column("judgement_event_id", Text),
    Column("judgement_theme", Text),
    Column("judgement_score", Integer),
    Column("judgement_confidence", Text),
    Column("judgement_exceptions", Text),
    Column("judgement_actor_role", Text),
    Column("judgement_actor_id", Text),
    Column("judgement_recorded_at", Text),
    Column("month", Text, nullable=False),
    Column("j_month", Integer),
    Column("j_event_month", Text),
    Column("e_month", Text),
    Column("d_month", Text),
    Column("sign_month", Integer),
    Column("previous_month", Text, nullable=False),
    Column("j_previous", Integer),
    Column("j_event_previous", Text),
    Column("e_previous", Text),
    Column("d_previous", Text),
    Column("sign_previous", Integer),
    Column("improvement_status", Text),
    Column("open_actions_count", Integer, nullable=False),
    Column("open_actions", Text, nullable=False),
    Column("triggers_last_90_days", Text, nullable=False),
    PrimaryKeyConstraint("service", "ordinal", name="rm_governance_pk"),
    UniqueConstraint("service", "theme", name="rm_governance_service_theme"),
)

recognition = Table(
    "rm_recognition",
    metadata,
    Column("service", Text, nullable=False),
    Column("ordinal", Integer, nullable=False),
    Column("theme", Text, nullable=False),
    Column("extent", Text, nullable=False),
    Column("affected_scopes", Text, nullable=False),
    Column("sampled_scopes", Text, nullable=False),
    Column("first_signal", Text, nullable=False),
    Column("first_signal_observed", Text, nullable=False),
    Column("pattern_detectable", Text, nullable=False),
    Column("pattern_detectable_recorded", Text, nullable=False),
    Column("acknowledgement", Text),
    Column("ack_recorded", Text),
    Column("recognition_lag_days", Integer),
    Column("detectable_lag_days", Integer),
    Column("claimed_lag_days", Integer),
    Column("open_lag_days", Integer),
    Column("after_acknowledgement", Text, nullable=False),
    PrimaryKeyConstraint("service", "ordinal", name="rm_recognition_pk"),
    Index("rm_recognition_service_theme", "service", "theme"),
)

drift = Table(
    "rm_drift",
    metadata,
    Column("service", Text, nullable=False),
    Column("ordinal", Integer, nullable=False),
    Column("theme", Text, nullable=False),
    Column("scope", Text),
    Column("month", Text, nullable=False),
    Column("j", Integer),
    Column("j_event", Text),
    Column("e", Text),
    Column("d", Text),
    Column("sign", Integer),
    PrimaryKeyConstraint("service", "ordinal", name="rm_drift_pk"),
)

improvement = Table(
    "rm_improvement",
    metadata,
    Column("service", Text, nullable=False),
    Column("theme", Text, nullable=False),
    Column("evaluation_date", Text, nullable=False),
    Column("status", Text, nullable=False),
    PrimaryKeyConstraint("service", "theme", "evaluation_date", name="rm_improvement_pk"),
)

triggers = Table(
    "rm_triggers",
    metadata,
    Column("service", Text, nullable=False),
    Column("ordinal", Integer, nullable=False),
    Column("trigger", Text, nullable=False),
    Column("theme", Text),
    Column("scope", Text),
    Column("fired_on", Text, nullable=False),
    Column("events", Text, nullable=False),
    PrimaryKeyConstraint("service", "ordinal", name="rm_triggers_pk"),
    Index("rm_triggers_service_theme", "service", "theme"),
    Index("rm_triggers_fired_on", "fired_on"),
)

overdue_reviews = Table(
    "rm_overdue_reviews",
    metadata,
    Column("service", Text, nullable=False),
    Column("ordinal", Integer, nullable=False),
    Column("level", Text, nullable=False),
    Column("due_by", Text, nullable=False),
    Column("held", Text),
    Column("days_overdue", Integer, nullable=False),
    PrimaryKeyConstraint("service", "ordinal", name="rm_overdue_reviews_pk"),
)

late_reviews = Table(
    "rm_late_reviews",
    metadata,
    Column("service", Text, nullable=False),
    Column("ordinal", Integer, nullable=False),
    Column("event_id", Text, nullable=False),
    Column("level", Text, nullable=False),
    Column("held", Text, nullable=False),
    Column("recorded", Text, nullable=False),
    Column("days_late", Integer, nullable=False),
    PrimaryKeyConstraint("service", "ordinal", name="rm_late_reviews_pk"),
)

events = Table(
    "rm_events",
    metadata,
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("notification_id", Integer, nullable=False),
    Column("event_id", Text, nullable=False),
    Column("service", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("theme", Text),
    Column("location", Text),
    Column("team", Text),
    Column("shift", Text),
    Column("actor_role", Text, nullable=False),
    Column("actor_id", Text, nullable=False),
    Column("record", Text),
    Column("observed_at", Text, nullable=False),
    Column("recorded_at", Text, nullable=False),
    Column("appended_at", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("payload", Text, nullable=False),
    UniqueConstraint("event_id", name="rm_events_event_id"),
    Index("rm_events_service_position", "service", "position"),
)

PER_SERVICE = (governance, recognition, drift, improvement, triggers, overdue_reviews, late_reviews)
ALL_TABLES = (tracking, service_status, *PER_SERVICE, events)
