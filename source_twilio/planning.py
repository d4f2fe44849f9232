"""A stream's slices, planned once per sync: which lists it reads (partitions: an account, and a conference
Status where Twilio splits the list) and which part of each (the sweep of records whose filtered field is null,
then time windows), each with its partition key, its window and the rules of what it emits, computed once.

A partition is read from ``start_date`` (or the account's creation), or, incrementally, from its cursor less the
lookback, to the sync's start: in windows, each checkpointed, after a probe of the whole range when there are more
than two (a range that fits in one page needs no windows). The sweep comes first: Twilio's date filters never match a null field (queued
messages have no ``date_sent``, queued calls no ``start_time``), and the cursor moves only with windows. It reaches
back ``SWEEP_REACH`` further than the windows: every record with a null field is read by at least one sync (the
first after it appears), and its changes are caught for a day after the previous sync. Where the sweep reads the
unfiltered list (messages), a partition's first sync reads it back to the start anyway: that one pass emits the
whole range, and there are no windows (``SweepList.covers``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

import orjson
from airbyte_cdk.sources.types import StreamSlice

from source_twilio.context import SyncFrame
from source_twilio.definitions import StreamDefinition
from source_twilio.emission import CountedParent, Previously, SliceRules
from source_twilio.reader import NOT_YET
from source_twilio.state import StreamState, partition_key
from source_twilio.timeutil import format_datetime
from source_twilio.windows import TimeFilter, Window, floor_to_second, plan_windows

SWEEP = "sweep"
WHOLE = "whole"  # a sweep that keeps every record of its range, not only those with a null field
SWEEP_REACH = timedelta(days=1)
PROBED_FROM = 2  # windows: a partition with more is first asked for whole, in one request
T = TypeVar("T")


@dataclass(frozen=True)
class SweepList:
    """One list of a sweep: its query parameters, and how far back it is read (ISO 8601, as converted values)."""

    params: Mapping[str, str]
    reach: str
    covers: Window | None = None
    """The range whose records it emits too (not only the nulls): a partition's first sync, read in one pass of the
    unfiltered list, with no windows (see ``Planner.plan``)."""

    def as_slice(self, time_field: str | None) -> dict[str, Any]:
        whole = {WHOLE: True} if self.covers is not None else {}
        return {SWEEP: time_field, "reach": self.reach, "sweep_params": dict(self.params), **whole}


@dataclass(frozen=True, eq=False)
class SlicePlan:
    partition: Mapping[str, Any]
    key: str
    window: Window | None  # None: a sweep list, or a list without a time filter
    sweep: SweepList | None
    last: bool  # the partition's last slice: its state then holds only this sync's versions
    rules: SliceRules
    probe: bool = False
    """The partition's whole range, asked for first in one request: when Twilio's answer is a single page, that
    is the partition read (most accounts of a sync of a thousand hold few records), and its windows are skipped;
    otherwise the page is dropped and the windows read the range, each checkpointed."""
    part: int | None = None
    """A child stream's share of a long slice of its parent (``parts``): the parents kept in its ``part``-th chunk."""

    def parts(self, count: int) -> list[SlicePlan]:
        """This slice of a child stream as ``count`` slices, each expanding its share of the parents kept for it: a
        first sync's one pass of an account's messages would otherwise be one slice, whose media are fetched in
        order while every other account's wait. Only the last is the partition's last and covers its range."""
        return [
            replace(self, part=index, last=self.last and index == count - 1, rules=replace(self.rules, versions=set()))
            for index in range(count)
        ]

    @property
    def account_sid(self) -> str | None:
        return self.partition.get("account_sid")

    @property
    def request(self) -> str:
        """What the slice asks Twilio for: two slices with the same ``request`` get the same records."""
        return orjson.dumps([self.key, self.cursor_slice(), self.probe], option=orjson.OPT_SORT_KEYS).decode()

    @property
    def covered(self) -> Window | None:
        """The range of the filtered field this slice reads whole: the cursor may move to its end once it is read."""
        if self.part is not None and not self.last:
            return None
        return self.window if self.window is not None else (self.sweep.covers if self.sweep else None)

    def cursor_slice(self) -> dict[str, Any]:
        if self.window is not None:
            return self.window.as_slice()
        return self.sweep.as_slice(self.rules.time_field) if self.sweep else {}

    def stream_slice(self) -> StreamSlice:
        return StreamSlice(
            partition=dict(self.partition), cursor_slice=self.cursor_slice(), extra_fields={"plan": self}
        )


@dataclass(frozen=True)
class Planner:
    """Plans the slices of one stream (``definition``) over the lists of ``slicing`` (its parent's, for a child)."""

    definition: StreamDefinition
    slicing: StreamDefinition
    start_date: datetime
    lookback: timedelta

    def plan(
        self,
        partition: Mapping[str, Any],
        previous: StreamState | None,
        frame: SyncFrame | None = None,
        created: datetime | None = None,
    ) -> Iterator[SlicePlan]:
        """The slices of one partition, made as they are taken (a thousand accounts' windows, most never read, are
        not all made up front); ``previous`` is the state to resume from (None: full refresh)."""
        key = partition_key(partition)
        time_filter = self.slicing.time_filter
        common: dict[str, Any] = {
            "key_fields": tuple(self.definition.primary_key),
            "version_fields": self.definition.version_fields,
            "change_cursor": self.definition.change_cursor,
            "parent_cursor": self.slicing.change_cursor if self.slicing is not self.definition else None,
            "counted_parent": self._counted_parent(),
        }
        if time_filter is None or frame is None:
            yield SlicePlan(partition, key, None, sweep=None, last=True, rules=SliceRules(**common))
            return
        cursor = previous.cursor(key) if previous is not None else None
        start = origin = max(self.start_date, floor_to_second(created)) if created else self.start_date
        if cursor is not None and previous is not None:
            start = max(start, cursor - self.lookback)
            common["previously"] = Previously(
                format_datetime(cursor), previous.seen(key), not previous.migrated, previous.children(key)
            )
        common["time_field"] = time_filter.field
        if previous is not None:
            common |= self._memory(time_filter, frame)
        if cursor is None and time_filter.sweep is not None and time_filter.sweep.sees_all:
            # A first sync reads the unfiltered list back to the start anyway, for the records with a null field:
            # that one pass emits the range's other records too, and no window reads them again.
            reach = format_datetime(start)
            high = time_filter.value_of(frame.start)
            rules = SliceRules(**common, sweep=True, sweep_order=time_filter.sweep.order, low=reach, high=high)
            whole = SweepList({}, reach, covers=Window(start, frame.start))
            yield SlicePlan(partition, key, None, whole, last=True, rules=rules)
            return
        windows = plan_windows(start, frame.start, time_filter.window, whole_days=time_filter.whole_days)
        if len(windows) > PROBED_FROM:
            windows.insert(0, Window(windows[0].start, windows[-1].end))  # the probe: see ``SlicePlan.probe``
        if time_filter.sweep is not None:  # a migrated state's cursors never covered the null dates: from the start
            fresh = cursor is None or (previous is not None and previous.migrated)
            reach = format_datetime(origin if fresh else max(start - SWEEP_REACH, self.start_date))
            for index, params in enumerate(time_filter.sweep.lists):
                rules = SliceRules(**common, sweep=True, sweep_order=time_filter.sweep.order, low=reach)
                last = not windows and index == len(time_filter.sweep.lists) - 1
                yield SlicePlan(partition, key, None, SweepList(params, reach), last=last, rules=rules)
        reaches_back = time_filter.value_of(self.start_date) if cursor is not None else None
        for index, window in enumerate(windows):
            low, high = time_filter.bounds(window)
            first = index == 0 or (index == 1 and len(windows) > PROBED_FROM + 1)
            rules = SliceRules(**common, low=low, high=high, reaches_back=reaches_back if first else None)
            probe = index == 0 and len(windows) > PROBED_FROM + 1
            last = index == len(windows) - 1
            yield SlicePlan(partition, key, window, sweep=None, last=last, rules=rules, probe=probe)

    def _counted_parent(self) -> CountedParent | None:
        child_of = self.definition.child_of
        if child_of is None or child_of.count_field is None or not self.definition.incremental:
            return None
        return CountedParent(tuple(self.slicing.primary_key), self.slicing.version_fields, child_of.count_field)

    def _memory(self, time_filter: TimeFilter, frame: SyncFrame) -> dict[str, str]:
        """Which versions the next sync needs remembered: those it reads again and would take for new or updated."""
        if self.definition.change_cursor is None:  # every record read again is compared by version
            return {"remember_from": time_filter.value_of(frame.horizon - self.lookback)}
        return {
            "remember_from": time_filter.value_of(frame.horizon),
            "remember_updated_from": format_datetime(frame.horizon),
        }


def interleave(sequences: Iterable[Iterable[T]], width: int) -> Iterator[T | object]:
    """Round-robin over ``width`` of the sequences at a time, taking the next one in as one ends: the first item of
    each, then the second of each, and so on. Lazy: only ``width`` sequences are open at once, so a thousand
    accounts' slices are not all planned up front. A sequence may answer ``NOT_YET`` (its next items depend on a
    request still in flight): it is passed over in this round, and ``NOT_YET`` comes out when a whole round had
    nothing ready."""
    pending = iter(sequences)
    active: list[Iterator[T]] = []
    while True:
        while len(active) < width:
            following = next(pending, None)
            if following is None:
                break
            active.append(iter(following))
        if not active:
            return
        still, ready = [], False
        for items in active:
            item = next(items, _END)
            if item is _END:
                continue
            still.append(items)
            if item is not NOT_YET:
                ready = True
                yield item
        active = still
        if active and not ready:
            yield NOT_YET


_END = object()
