"""Timestamps as Twilio writes them (RFC 2822 with offsets, ISO 8601) and as we emit them (ISO 8601 UTC)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

UTC = timezone.utc

_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTHS = {name: index for index, name in enumerate(_MONTH_NAMES, start=1)}
# "Fri, 18 Oct 2019 17:02:00 +0000": the shape Twilio's 2010 API sends; anything else goes the slow way.
_RFC2822 = re.compile(
    r"^(?:[A-Z][a-z]{2}, )?(\d{1,2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$"
)
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


_MONTH_NUMBERS = {name: f"{index:02d}" for name, index in _MONTHS.items()}


def rfc2822_utc_to_iso(value: str) -> str | None:
    """The fast path for the common case, "Fri, 18 Oct 2019 17:02:00 +0000": rearranged, not parsed.
    None for anything else (other offsets, other shapes, impossible dates), which take the full parser."""
    if len(value) != 31 or not value.endswith(" +0000") or value[3] != ",":
        return None
    month = _MONTH_NUMBERS.get(value[8:11])
    day, year, clock = value[5:7], value[12:16], value[17:25]
    if month is None or not (day.isdigit() and year.isdigit()) or clock[2] != ":" or clock[5] != ":":
        return None
    if not ("01" <= day <= _DAYS_IN_MONTH[month] or (month == "02" and day == "29" and _leap(int(year)))):
        return None
    if not (clock[:2].isdigit() and clock[3:5].isdigit() and clock[6:].isdigit()):
        return None
    if clock[:2] > "23" or clock[3:5] > "59" or clock[6:] > "59":
        return None
    return f"{year}-{month}-{day}T{clock}Z"


_DAYS_IN_MONTH = {"01": "31", "02": "28", "03": "31", "04": "30", "05": "31", "06": "30", "07": "31", "08": "31", "09": "30", "10": "31", "11": "30", "12": "31"}  # fmt: skip


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def parse_twilio_datetime(value: str) -> datetime | None:
    """An aware UTC datetime from an RFC 2822 or ISO 8601 string, or None if it is neither."""
    match = _RFC2822.match(value)
    if match:
        day, month, year, hour, minute, second, sign, off_h, off_m = match.groups()
        month_number = _MONTHS.get(month)
        if month_number is not None:
            try:
                moment = datetime(int(year), month_number, int(day), int(hour), int(minute), int(second), tzinfo=UTC)
            except ValueError:
                return None
            offset = timedelta(hours=int(off_h), minutes=int(off_m))
            return moment - offset if sign == "+" else moment + offset
    parsed = parse_iso_datetime(value)
    if parsed is not None:
        return parsed
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse_iso_datetime(value: str) -> datetime | None:
    """An aware UTC datetime from ISO 8601 (date only means midnight UTC; no offset means UTC), or None."""
    if not value or not value[0].isdigit():
        return None
    try:
        if _DATE_ONLY.match(value):
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def format_datetime(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z, to the second unless there are microseconds."""
    moment = moment.astimezone(UTC)
    if moment.microsecond:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def format_date(day: date) -> str:
    return day.strftime("%Y-%m-%d")
