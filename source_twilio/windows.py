"""Time windows over Twilio's date filters, and the query parameters that ask for exactly one window.

Twilio's filters are inclusive at both ends (``X>`` is on-or-after, ``X<`` on-or-before) and some are
honoured by UTC day only (calls, conferences). A window is half-open, ``[start, end)``: the request asks
for a little more where the filter is coarse, and records outside the window are dropped client-side,
so adjacent windows never emit a record twice and never miss one at a boundary.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from source_twilio.timeutil import UTC, format_date, format_datetime, parse_iso_datetime

ONE_SECOND = timedelta(seconds=1)
ONE_DAY = timedelta(days=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Granularity(str, Enum):
    SECOND = "second"  # X> / X< with a date-time, honoured to the second (messages, recordings, media)
    DAY = "day"  # X> / X< honoured by UTC day only (calls, conferences)
    DATES = "dates"  # StartDate / EndDate as inclusive dates (usage records)
    DATETIMES = "datetimes"  # StartDate / EndDate as inclusive date-times (Monitor alerts)


@dataclass(frozen=True)
class TimeFilter:
    """How one stream is filtered by time on Twilio's side."""

    param: str  # the filter's name: DateSent, StartTime, DateCreated, StartDate (with EndDate)
    field: str  # the record field it filters on
    granularity: Granularity
    window: timedelta  # size of one window: a checkpoint after each
    retention: timedelta | None = None  # how far back Twilio serves this list at all
    nullable: bool = False  # the field can be null (never matched by a filter): such records need a sweep

    def params(self, window: Window) -> dict[str, str]:
        """Query parameters asking for every record of the window (and, where the filter is coarse, a little more)."""
        last = window.end - ONE_SECOND
        if self.granularity is Granularity.SECOND:
            return {f"{self.param}>": format_datetime(window.start), f"{self.param}<": format_datetime(last)}
        if self.granularity is Granularity.DAY:
            return {f"{self.param}>": format_date(window.start.date()), f"{self.param}<": format_date(last.date())}
        if self.granularity is Granularity.DATES:
            return {"StartDate": format_date(window.start.date()), "EndDate": format_date(last.date())}
        return {"StartDate": format_datetime(window.start), "EndDate": format_datetime(last)}


@dataclass(frozen=True, order=True)
class Window:
    """The half-open interval [start, end) of a field's values."""

    start: datetime
    end: datetime

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def as_slice(self) -> dict[str, str]:
        return {"start": format_datetime(self.start), "end": format_datetime(self.end)}

    @classmethod
    def from_slice(cls, cursor_slice: dict[str, str]) -> Window:
        start, end = parse_iso_datetime(cursor_slice["start"]), parse_iso_datetime(cursor_slice["end"])
        if start is None or end is None:
            raise ValueError(f"not a window: {cursor_slice}")
        return cls(start, end)


def floor_to_second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def floor_to_day(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def plan_windows(start: datetime, end: datetime, size: timedelta, whole_days: bool = False) -> list[Window]:
    """Windows covering [start, end) exactly, oldest first, with inner boundaries on multiples of ``size``
    since 1970-01-01 UTC (so every run cuts time at the same instants). ``whole_days`` widens the range to
    whole UTC days, for filters that only take dates."""
    start, end = floor_to_second(start), floor_to_second(end)
    if whole_days:
        start = floor_to_day(start)
        end = floor_to_day(end) + (ONE_DAY if end != floor_to_day(end) else timedelta(0))
    if end <= start:
        return []
    windows = []
    cursor = start
    while cursor < end:
        boundary = EPOCH + ((cursor - EPOCH) // size + 1) * size
        next_cursor = min(boundary, end)
        windows.append(Window(cursor, next_cursor))
        cursor = next_cursor
    return windows
