"""Saving in a chosen order, and snapshots from memory: overrides of the library's Application.

Checked against eventsourcing 9.5.6: ``Application._record``, ``Application._notify`` and
``Application._take_snapshots`` are the library's own steps of ``save`` (record the processing
event, then take snapshots, then notify); these are the only places our code calls or overrides
them. A library upgrade must re-check this module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from uuid import UUID

from eventsourcing.application import Application, ProcessingEvent


class OrderedSaveApplication(Application):  # type: ignore[type-arg]  # the library's generic Application over UUIDs
    """An Application whose saves may order the events across aggregates, and whose snapshots are
    taken from the aggregates in memory."""

    def save_ordered(self, items: Iterable[Any], order: Callable[[Any], float]) -> None:
        """Like ``save(*items)``, the events sorted by ``order`` before they are recorded.

        ``items`` are aggregates (their pending events are collected) or domain events already
        made (saved as they are). What ``ProcessingEvent.collect_events`` does, without its
        runtime Protocol checks (they cost ~50 µs per object, more than storing the event).
        """
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        for obj in items:
            collect = getattr(obj, "collect_events", None)
            if collect is None:
                processing_event.events.append(obj)
            else:
                processing_event.events.extend(collect())
                processing_event.aggregates[obj.id] = obj
        processing_event.events.sort(key=order)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)

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
