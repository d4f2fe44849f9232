"""How records move on between two syncs: the pure parts of :meth:`~.data.Dataset.mutate`.

Settling a message or a call, picking which recent rows settle, stamping a write and keeping the
summary of a mutation need no dataset; ``data.py`` decides where the rows go.
"""

from __future__ import annotations

import math
import random
from decimal import Decimal
from typing import Any

from .generate import RECENT_SECONDS, call_row, message_row, money
from .store import Collection, Item, Row
from .timefmt import iso_z, rfc2822

SETTLING_MESSAGE_STATUSES = frozenset({"queued", "accepted", "scheduled", "sending", "sent", "delivered", "received"})
"""Statuses of messages a mutation may move on (failures stay as they are)."""
SETTLING_CALL_STATUSES = frozenset({"queued", "ringing", "in-progress", "completed"})


def recent_rows(
    collection: Collection, now: int, rng: random.Random, limit: int, statuses: frozenset[str]
) -> list[Row]:
    """Up to ``limit`` rows created in the last two hours with one of ``statuses``, unpriced ones first."""
    start, end = collection.span(now - RECENT_SECONDS, None)
    candidates = [
        row
        for row in collection.rows[start:end]
        if row.times["date_created"] >= now - RECENT_SECONDS and row.record["status"] in statuses
    ]
    candidates.sort(key=lambda row: row.ident)
    rng.shuffle(candidates)
    candidates.sort(key=lambda row: row.record["price"] is not None)
    return candidates[:limit]


def settle_message(row: Row, now: int, rng: random.Random) -> Row:
    """The message after delivery reports and pricing came in (``date_updated`` is ``now``)."""
    record = dict(row.record)
    date_sent = row.times["date_sent"]
    if record["status"] in ("queued", "accepted", "scheduled", "sending", "sent"):
        record["status"] = "delivered" if rng.random() < 0.85 else "undelivered"
        if record["status"] == "undelivered":
            record["error_code"], record["error_message"] = 30003, "Unreachable destination handset"
    if date_sent is None:
        date_sent = now
        record["date_sent"] = rfc2822(now)
    if record["price"] is None:
        per_message = Decimal("0.0200") if record["num_media"] != "0" else Decimal("0.0079")
        record["price"] = money(per_message * int(record["num_segments"]))
    else:
        record["price"] = money(abs(Decimal(record["price"])) + Decimal("0.0005"))
    record["date_updated"] = rfc2822(now)
    return message_row(Item(row.item.account_sid, record), row.times["date_created"], date_sent)


def settle_call(row: Row, now: int, rng: random.Random) -> Row:
    """The call once it has ended and been priced (``date_updated`` is ``now``)."""
    record = dict(row.record)
    created = row.times["date_created"]
    start, end = row.times["start_time"], row.times["end_time"]
    if start is None:
        start = max(created, min(now - 1, created + rng.randint(1, 20)))
    if end is None or record["status"] != "completed":
        end = start + max(1, min(rng.randint(10, 300), now - start))
        record["status"] = "completed"
    duration = end - start
    per_minute = Decimal("0.0085") if record["direction"] == "inbound" else Decimal("0.0140")
    price = per_minute * math.ceil(max(duration, 1) / 60)
    if record["price"] is not None:
        price += Decimal("0.0010")
    record.update(
        start_time=rfc2822(start),
        end_time=rfc2822(end),
        duration=str(duration),
        price=money(price),
        date_updated=rfc2822(now),
    )
    return call_row(Item(row.item.account_sid, record), created, start, end)


def written_at(row: Row, now: int) -> Row:
    """The row as written by the mutation at ``now``: whatever its timeline, Twilio stamps
    ``date_updated`` with the moment of the write, which is what makes the change visible to a
    connector that synced before it."""
    if "date_updated" not in row.record:
        return row
    record = dict(row.record)
    record["date_updated"] = iso_z(now) if "T" in (row.record.get("date_updated") or "") else rfc2822(now)
    times = {**row.times, "date_updated": now} if "date_updated" in row.times else row.times
    return Row(Item(row.item.account_sid, record, row.item.parent), row.ident, row.sort_epoch, times)


class Changes:
    """Idents of what one mutation added and changed, per stream."""

    def __init__(self) -> None:
        self._new: dict[str, list[str]] = {}
        self._changed: dict[str, list[str]] = {}

    def new(self, stream: str, *idents: str) -> None:
        self._new.setdefault(stream, []).extend(idents)

    def changed(self, stream: str, *idents: str) -> None:
        self._changed.setdefault(stream, []).extend(idents)

    def summary(self) -> dict[str, Any]:
        return {
            "new": self._new,
            "changed": self._changed,
            "counts": {
                "new": {stream: len(idents) for stream, idents in self._new.items()},
                "changed": {stream: len(idents) for stream, idents in self._changed.items()},
            },
        }
