"""Time windows over Twilio's date filters, and the query parameters that ask for at least one window.

Twilio's lower bounds (``X>``, ``StartDate``) are "on or after". Its upper bounds are "on or before" in most
specs but "before" in the Calls spec, and some filters take whole UTC days only (calls, conferences, usage). A
window is half-open, ``[start, end)``: the request asks one unit (a second, or a day) beyond its end, so that
either reading of the upper bound returns the whole window, and what falls outside it is dropped client-side.
Adjacent windows therefore never emit a record twice and never miss one at a boundary.
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
    SECOND = "second"  # bounds are date-times, honoured to the second (messages, recordings, alerts)
    DAY = "day"  # bounds are dates; the field is a date-time (calls, conferences)
    DATES = "dates"  # bounds are dates and so is the field: windows are whole days (usage records)


@dataclass(frozen=True)
class Sweep:
    """How to find the records whose filtered field is null, which Twilio's date filters never match (queued
    messages have no ``date_sent``, calls not yet dialed no ``start_time``).

    Each of ``lists`` (query parameters: ``{}`` for the unfiltered list, ``{"Status": "queued"}``) is read newest
    first, where "newest" is the first non-null of ``order``, and only as far back as the sweep's reach: paging
    stops at the first page that reaches past it. A sweep's cost is the records of its reach, not the list's
    history."""

    order: tuple[str, ...]
    lists: tuple[dict[str, str], ...] = ({},)

    @property
    def sees_all(self) -> bool:
        """Whether it reads the unfiltered list, which holds every record, null field or not."""
        return self.lists == ({},)


@dataclass(frozen=True)
class TimeFilter:
    """How one list is filtered by time on Twilio's side."""

    field: str  # the record field it filters on
    lower: str  # the query key of the lower bound: "DateSent>", "StartDate"
    upper: str  # the query key of the upper bound: "DateSent<", "EndDate"
    granularity: Granularity
    window: timedelta  # size of one window: a checkpoint after each
    retention: timedelta | None = None  # how far back Twilio serves this list at all (at most; accounts may keep less)
    sweep: Sweep | None = None  # the field can be null: how those records are found
    lower_exclusive: bool = False  # the lower bound is "after", not "on or after" (Verify): asked a second earlier

    @property
    def whole_days(self) -> bool:
        return self.granularity is Granularity.DATES

    def params(self, window: Window) -> dict[str, str]:
        """Query parameters asking for every record of the window, and one unit beyond its end."""
        if self.granularity is Granularity.SECOND:
            start = window.start - ONE_SECOND if self.lower_exclusive else window.start
            return {self.lower: format_datetime(start), self.upper: format_datetime(window.end)}
        last_day = (window.end - ONE_SECOND).date()
        return {self.lower: format_date(window.start.date()), self.upper: format_date(last_day + ONE_DAY)}

    def value_of(self, moment: datetime) -> str:
        """An instant as the record field's converted values compare: ISO 8601, or a date for a date field."""
        return format_date(moment.date()) if self.granularity is Granularity.DATES else format_datetime(moment)

    def bounds(self, window: Window) -> tuple[str, str]:
        return self.value_of(window.start), self.value_of(window.end)


@dataclass(frozen=True, order=True)
class Window:
    """The half-open interval [start, end) of a field's values."""

    start: datetime
    end: datetime

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def halves(self) -> tuple[Window, Window] | None:
        """The window cut in two at a whole second, or None if it is one second long."""
        middle = floor_to_second(self.start + (self.end - self.start) / 2)
        if middle <= self.start or middle >= self.end:
            return None
        return Window(self.start, middle), Window(middle, self.end)

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
