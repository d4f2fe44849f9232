"""How far back Twilio still serves a list, per account: clamped when each request is built, learned on refusal.

Twilio refuses a Messages (and Media) date range reaching back past the account's message retention (HTTP 400,
code 20004) and keeps Monitor alerts for 30 days. The retention is a customer setting, from 7 to 400 days, and
Twilio's message does not say it. Every request asks from at most ``retention - MARGIN`` ago by Twilio's clock,
computed when the request is built, not when the sync started (a long sync reaches some lists hours later).
When Twilio refuses anyway, the account keeps less than assumed: the longest retention it accepts is found by
asking for one record from each candidate day (a binary search of at most nine requests, once per account),
the user is told what Twilio keeps, and the request is retried from there.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from source_twilio.clock import TwilioClock
from source_twilio.timeutil import format_datetime
from source_twilio.windows import TimeFilter, floor_to_second

logger = logging.getLogger("airbyte")

MARGIN = timedelta(hours=1)  # Twilio checks against its clock when it answers: stay clear of the edge
SHORTEST_DAYS = 1


class RetentionLimits:
    def __init__(self, clock: TwilioClock) -> None:
        self._clock = clock
        self._days: dict[tuple[str, str], int] = {}  # (account, filtered field) -> days learned from a refusal
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._lock = threading.Lock()

    def floor(self, account_sid: str, time_filter: TimeFilter) -> datetime | None:
        """The earliest instant a request may ask for now, or None for a list Twilio serves from any time."""
        days = self.days(account_sid, time_filter)
        if days is None:
            return None
        return floor_to_second(self._clock.now() - timedelta(days=days) + MARGIN)

    def days(self, account_sid: str, time_filter: TimeFilter) -> int | None:
        if time_filter.retention is None:
            return None
        return self._days.get((account_sid, time_filter.field), time_filter.retention.days)

    def shorten(
        self, account_sid: str, time_filter: TimeFilter, refused_from: datetime, accepts: Callable[[datetime], bool]
    ) -> bool:
        """After Twilio refused a range starting at ``refused_from``: learns the account's retention by asking
        ``accepts(start)``. False if it cannot be learned (no start accepted): the refusal stands."""
        key = (account_sid, time_filter.field)
        with self._lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:  # one search per account; the others wait for its answer
            current = self.days(account_sid, time_filter)
            floor = self.floor(account_sid, time_filter)
            if current is None or floor is None:
                return False
            if refused_from < floor - timedelta(minutes=1):
                return True  # asked before another request learned a shorter retention: retry from the new floor
            now = self._clock.now()

            def start(days: int) -> datetime:
                return floor_to_second(now - timedelta(days=days) + MARGIN)

            if current <= SHORTEST_DAYS or not accepts(start(SHORTEST_DAYS)):
                return False
            kept, refused = SHORTEST_DAYS, current  # accepted, refused (in days)
            while refused - kept > 1:
                middle = (kept + refused) // 2
                if accepts(start(middle)):
                    kept = middle
                else:
                    refused = middle
            self._days[key] = kept
        logger.warning(
            f"Account {account_sid}: Twilio keeps {kept} days of the data filtered by {time_filter.field} (the "
            f"account's retention setting) and refuses older ranges; reading from {format_datetime(start(kept))}. "
            "Older records no longer exist at Twilio."
        )
        return True
