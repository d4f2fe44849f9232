"""Resuming from the state Airbyte's own Twilio connector left, so that pointing an existing connection at this image
does not sync the whole history again.

Its shapes, 0.x to 1.x (from its state migrations and real STATE messages):

- per partition: ``{"states": [{"partition": {"subresource_uri": "/2010-04-01/Accounts/AC.../Messages.json",
  "parent_slice": {...}}, "cursor": {"date_sent": "2025-08-01T00:00:00Z"}}], "state": {...}, ...}``; media are
  partitioned per message (``.../Messages/SM.../Media.json``), usage records by ``account_sid``;
- one cursor for the stream: ``{"date_generated": "2025-08-05T16:43:50Z"}`` (alerts; older versions' streams),
  which this connector applies to every account that has none of its own;
- older still, a cursor per account: ``{"AC...": {"date_created": "2024-01-01"}}``.

Each account resumes from its cursor (less the lookback, as always). Where an account has several (a cursor per
message's media), it resumes from the earliest: reading more again is safe, missing is not, and Airbyte's own
cursors can lag behind what it emitted (its stuck-cursor bug). What Airbyte never read before its cursor is read
too: messages and calls whose date is null (its date filters never return them: the first sync's sweep reaches
back to the start date), completed conferences and recordings older than 400 days (``NOT_TRUSTED``: read again
from the start date). The versions read after the cursor are not known, so the first sync may emit again what
changed in the lookback: at most a few hours' worth.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

from source_twilio.timeutil import parse_iso_datetime

ACCOUNT = re.compile(r"AC[0-9a-fA-F]{32}")
EVERY_ACCOUNT = "*"  # the key of a cursor for every account without one of its own
CURSOR_FIELDS = ("date_updated", "date_sent", "date_created", "start_time", "end_time", "date_generated", "start_date")


NOT_TRUSTED = {
    "conferences": "0.16 lists no completed conference (no Status since 2026-07-13)",
    "recordings": "it never read recordings older than 400 days, which Twilio keeps",
}
"""Streams whose Airbyte cursor does not mean "everything before it was read": read again from the start date."""


def airbyte_cursors(value: Mapping[str, Any], stream_name: str = "") -> dict[str, datetime] | None:
    """Cursors by partition key (an account, or ``EVERY_ACCOUNT``) from one of Airbyte's shapes; None if it is
    none of them; no cursor at all for a stream whose Airbyte cursor cannot be trusted (``NOT_TRUSTED``)."""
    cursors = _cursors(value)
    return {} if cursors is not None and stream_name in NOT_TRUSTED else cursors


def _cursors(value: Mapping[str, Any]) -> dict[str, datetime] | None:
    if isinstance(value.get("states"), list):
        cursors: dict[str, datetime] = {}
        for entry in value["states"]:
            partition = entry.get("partition") if isinstance(entry, Mapping) else None
            account = _account_of(partition)
            moment = _instant_of(entry.get("cursor")) if isinstance(entry, Mapping) else None
            if account is None or moment is None:
                return None
            status = partition.get("status") or partition.get("Status") if isinstance(partition, Mapping) else None
            key = f"{account}/Status={status}" if status else account
            cursors[key] = min(cursors.get(key, moment), moment)
        overall = _instant_of(value.get("state"))
        if overall is not None:
            cursors[EVERY_ACCOUNT] = overall
        return cursors
    if value and all(ACCOUNT.fullmatch(str(key)) for key in value):  # older: a cursor per account SID
        by_account = {str(key): _instant_of(cursor) for key, cursor in value.items()}
        return None if None in by_account.values() else by_account  # type: ignore[return-value]
    moment = _instant_of(value)
    return {EVERY_ACCOUNT: moment} if moment is not None else None


def _account_of(partition: Any) -> str | None:
    """The account a partition is for: its ``account_sid``, or the one in its (or its parent's) subresource URI."""
    while isinstance(partition, Mapping):
        for name in ("account_sid", "subresource_uri", "subresource_uris"):
            found = ACCOUNT.search(str(partition.get(name) or ""))
            if found:
                return found.group(0)
        partition = partition.get("parent_slice")
    return None


def _instant_of(cursor: Any) -> datetime | None:
    if not isinstance(cursor, Mapping):
        return None
    for name in CURSOR_FIELDS:
        value = cursor.get(name)
        if isinstance(value, str) and (moment := _instant(value)) is not None:
            return moment
    return None


def _instant(text: str) -> datetime | None:
    """ISO 8601 (``2025-08-21T00:00:00Z``, ``2025-08-21``) or RFC 2822 (``Tue, 17 Nov 2020 04:08:53 +0000``)."""
    moment = parse_iso_datetime(text)
    if moment is not None:
        return moment
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return parsed.astimezone(timezone.utc) if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
