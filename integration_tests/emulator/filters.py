"""List filters: which query keys a list understands, and the closed epoch intervals they select.

Twilio's inequality filters are query keys that end in ``>`` or ``<`` (``DateSent>=2024-01-01`` on
the wire is the key ``DateSent>``). ``>`` is taken as "on or after", ``<`` as "on or before", and
the plain key as "on that UTC day". Some fields compare by UTC day only (Calls' StartTime/EndTime,
Conferences' DateCreated/DateUpdated): there the time of day in the value is ignored.

Twilio's Calls spec says ``X<`` means "before this date", the others "on or before". The server's
``upper_bounds="exclusive"`` takes the strict reading for every ``<`` key: strictly before the
instant, or strictly before the UTC day for date-only values and day-only fields.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .errors import bad_request
from .timefmt import ACCEPTED_DATETIME_FORMATS, SECONDS_PER_DAY, day_start, parse_filter_datetime


class Op(enum.Enum):
    ON_OR_AFTER = ">"
    ON_OR_BEFORE = "<"
    SAME_DAY = ""


@dataclass(frozen=True)
class TimeParam:
    """One time-filter query key and the record time field it constrains.

    ``sort_slack`` relates the field to the list's sort order, so the server can bisect instead of
    scanning: 0 when the field is the sort time itself, N when the field always lies within N
    seconds after the sort time, None when unrelated. ``strict`` is a bound the spec words "after"
    or "before": the value itself (or its whole day, for a date-only value) is left out.
    """

    key: str
    field: str
    op: Op
    day_only: bool = False
    sort_slack: int | None = None
    strict: bool = False


def comparisons(name: str, field: str, *, day_only: bool = False, sort_slack: int | None = 0) -> tuple[TimeParam, ...]:
    """The ``Name>``, ``Name<`` and ``Name`` keys of one filterable field."""
    return tuple(TimeParam(name + op.value, field, op, day_only, sort_slack) for op in Op)


@dataclass
class Interval:
    """A closed interval of epoch seconds; None means unbounded on that side."""

    lo: int | None = None
    hi: int | None = None

    def narrow(self, lo: int | None, hi: int | None) -> None:
        if lo is not None:
            self.lo = lo if self.lo is None else max(self.lo, lo)
        if hi is not None:
            self.hi = hi if self.hi is None else min(self.hi, hi)

    def contains(self, epoch: int | None) -> bool:
        """Null never matches: a record with no value for a filtered field is not selected."""
        if epoch is None:
            return False
        return (self.lo is None or epoch >= self.lo) and (self.hi is None or epoch <= self.hi)


def interval_of(param: TimeParam, raw: str, *, exclusive_upper: bool = False) -> Interval:
    """The instants ``param`` selects for the client's value ``raw``; 400/20001 if ``raw`` is not a date.

    ``exclusive_upper`` makes ``X<`` strict: the instant itself, or the whole day, is left out.
    """
    try:
        value = parse_filter_datetime(raw)
    except ValueError:
        raise bad_request(f"Invalid value for {param.key}: {raw!r}. Use {ACCEPTED_DATETIME_FORMATS}, in UTC.") from None
    whole_day = param.day_only or value.date_only or param.op is Op.SAME_DAY
    first = day_start(value.epoch) if whole_day else value.epoch
    last = day_start(value.epoch) + SECONDS_PER_DAY - 1 if whole_day else value.epoch
    if param.op is Op.ON_OR_AFTER:
        return Interval(last + 1 if param.strict else first, None)
    if param.op is Op.ON_OR_BEFORE:
        return Interval(None, first - 1 if exclusive_upper or param.strict else last)
    return Interval(first, last)
