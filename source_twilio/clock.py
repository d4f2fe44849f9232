"""Twilio's time, as its ``Date`` response header tells it, instead of this machine's.

Windows end, cursors are stamped and retention limits are computed in Twilio's time: a machine whose clock runs
ahead of Twilio's would otherwise save a cursor later than records Twilio has yet to stamp, and lose them. The
header has whole seconds; the offset is taken as the middle of that second, and a machine without any answer
yet uses its own clock.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

import requests


class TwilioClock:
    def __init__(self) -> None:
        self._offset: float | None = None
        self._lock = threading.Lock()

    def observe(self, response: requests.Response) -> None:
        header = response.headers.get("Date")
        if not header:
            return
        try:
            stamped = parsedate_to_datetime(header)
        except (TypeError, ValueError, IndexError):
            return
        if stamped.tzinfo is None:
            stamped = stamped.replace(tzinfo=timezone.utc)
        offset = stamped.timestamp() + 0.5 - time.time()
        with self._lock:
            self._offset = offset

    @property
    def synchronised(self) -> bool:
        return self._offset is not None

    @property
    def offset(self) -> timedelta:
        """Twilio's clock minus this machine's (0 until Twilio has answered)."""
        return timedelta(seconds=self._offset or 0.0)

    def now(self) -> datetime:
        return datetime.fromtimestamp(time.time() + (self._offset or 0.0), timezone.utc)
