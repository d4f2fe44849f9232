"""Twilio's timestamp wire formats, and the date values clients may put in list filters.

Internally every instant is an ``int`` of epoch seconds (UTC); this module turns them into the
strings Twilio sends and parses what clients send back.
"""

from __future__ import annotations

import calendar
import functools
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone

SECONDS_PER_DAY = 86_400

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_NUMBER = {name: index + 1 for index, name in enumerate(_MONTHS)}


@functools.lru_cache(maxsize=8192)
def _day_prefix(day_number: int) -> str:
    t = time.gmtime(day_number * SECONDS_PER_DAY)
    return f"{_WEEKDAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year}"


@functools.lru_cache(maxsize=64)
def _offset_suffix(offset_minutes: int) -> str:
    hours, minutes = divmod(abs(offset_minutes), 60)
    return f"{'-' if offset_minutes < 0 else '+'}{hours:02d}{minutes:02d}"


def rfc2822(epoch: int, offset_minutes: int = 0) -> str:
    """Format like the 2010-04-01 API: ``Fri, 18 Oct 2019 17:02:00 +0000`` (same instant, any offset)."""
    day_number, seconds = divmod(epoch + offset_minutes * 60, SECONDS_PER_DAY)
    hour, rest = divmod(seconds, 3600)
    minute, second = divmod(rest, 60)
    return f"{_day_prefix(day_number)} {hour:02d}:{minute:02d}:{second:02d} {_offset_suffix(offset_minutes)}"


@functools.lru_cache(maxsize=8192)
def _iso_day(day_number: int) -> str:
    t = time.gmtime(day_number * SECONDS_PER_DAY)
    return f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}"


def iso_z(epoch: int) -> str:
    """Format like Monitor v1 and the other product hosts: ``2015-07-30T20:00:00Z``."""
    day_number, seconds = divmod(epoch, SECONDS_PER_DAY)
    hour, rest = divmod(seconds, 3600)
    minute, second = divmod(rest, 60)
    return f"{_iso_day(day_number)}T{hour:02d}:{minute:02d}:{second:02d}Z"


def iso_utc_offset(epoch: int) -> str:
    """Format like usage records' ``as_of``: ``2019-06-24T22:32:49+00:00``."""
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(epoch))


def day_string(epoch: int) -> str:
    """The UTC date of an instant as ``YYYY-MM-DD``."""
    return time.strftime("%Y-%m-%d", time.gmtime(epoch))


def day_start(epoch: int) -> int:
    """Midnight UTC of the day holding ``epoch``."""
    return epoch - epoch % SECONDS_PER_DAY


def to_epoch(moment: datetime) -> int:
    """Whole epoch seconds of an aware datetime (naive values are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp())


def from_epoch(epoch: int) -> datetime:
    """The aware UTC datetime of an epoch second."""
    return datetime.fromtimestamp(epoch, tz=timezone.utc)


@dataclass(frozen=True)
class FilterValue:
    """A parsed filter value: the instant it names, and whether the client gave only a date."""

    epoch: int
    date_only: bool


_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_DATETIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})Z| (\d{2}):(\d{2}):(\d{2})Z?)$")
_RFC2822 = re.compile(
    r"^(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?(\d{1,2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) "
    r"(\d{2}):(\d{2}):(\d{2}) (?:([+-])(\d{2})(\d{2})|GMT|UT|UTC)$"
)

ACCEPTED_DATETIME_FORMATS = "YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ, YYYY-MM-DD HH:MM:SS[Z] or RFC 2822"


def _timegm(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> int:
    # datetime() validates the calendar (no 2025-02-30), timegm gives the epoch without tz surprises.
    datetime(year, month, day, hour, minute, second)
    return calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))


def parse_filter_datetime(text: str) -> FilterValue:
    """Parse a date filter value in one of the formats Twilio accepts; raise ``ValueError`` otherwise."""
    text = text.strip()
    if match := _DATE.match(text):
        year, month, day = map(int, match.groups())
        return FilterValue(_timegm(year, month, day), date_only=True)
    if match := _DATETIME.match(text):
        year, month, day = (int(g) for g in match.groups()[:3])
        clock = [g for g in match.groups()[3:] if g is not None]
        hour, minute, second = map(int, clock)
        return FilterValue(_timegm(year, month, day, hour, minute, second), date_only=False)
    if match := _RFC2822.match(text):
        day, month_name, year, hour, minute, second, sign, off_h, off_m = match.groups()
        epoch = _timegm(int(year), _MONTH_NUMBER[month_name], int(day), int(hour), int(minute), int(second))
        if sign:
            offset = (int(off_h) * 60 + int(off_m)) * 60
            epoch -= offset if sign == "+" else -offset
        return FilterValue(epoch, date_only=False)
    raise ValueError(f"{text!r} is not a date in a supported format ({ACCEPTED_DATETIME_FORMATS})")


_RELATIVE_DAYS = re.compile(r"^([+-])(\d{1,5})days$")


def parse_usage_date(text: str, today_epoch: int) -> int:
    """Parse a Usage Records ``StartDate``/``EndDate`` (``YYYY-MM-DD`` or ``-30days``) to its midnight UTC."""
    text = text.strip()
    if match := _DATE.match(text):
        year, month, day = map(int, match.groups())
        return _timegm(year, month, day)
    if match := _RELATIVE_DAYS.match(text):
        sign, days = match.groups()
        delta = int(days) * SECONDS_PER_DAY
        return day_start(today_epoch) + (delta if sign == "+" else -delta)
    raise ValueError(f"{text!r} is not a date (use YYYY-MM-DD, or a relative offset such as -30days)")
