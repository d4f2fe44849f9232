"""Twilio out of reach for the whole sync: after a few minutes in which every request failed, stop.

Each list retries a failing request for minutes before it gives up (``errors.MAX_RETRY_SECONDS``). That is right
for one list Twilio cannot serve, but when Twilio (or the network to it) is down, every list of every account
would spend those minutes in turn, and one sync would fail for hours. ``Outage`` watches every answer: once no
request has had an answer (anything but a 5xx, a dropped connection or a timeout) for ``OUTAGE_SECONDS``, every
further request fails at once with ``TwilioUnavailable``, a transient error, and the sync ends with the state of
what it emitted.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

OUTAGE_SECONDS = 300.0


class TwilioUnavailable(AirbyteTracedException):
    def __init__(self, seconds: float, last_failure: str) -> None:
        message = (
            f"Twilio has not answered for {seconds / 60:.0f} minutes (the last attempt: {last_failure}): the sync "
            "stopped there. Everything emitted before is checkpointed, and the next sync resumes from it; if it "
            "lasts, check status.twilio.com and the network between this machine and Twilio."
        )
        super().__init__(message=message, internal_message=message, failure_type=FailureType.transient_error)


def _monotonic() -> float:
    return time.monotonic()


class Outage:
    def __init__(self, limit_seconds: float = OUTAGE_SECONDS, clock: Callable[[], float] | None = None) -> None:
        self._limit = limit_seconds
        self._clock = clock or (lambda: _monotonic())
        self._lock = threading.Lock()
        self._last_answer = self._clock()
        self._last_failure: str | None = None

    def answered(self) -> None:
        with self._lock:
            self._last_answer = self._clock()
            self._last_failure = None

    def failed(self, detail: str) -> None:
        with self._lock:
            self._last_failure = detail

    @property
    def ongoing(self) -> bool:
        with self._lock:
            return self._last_failure is not None and self._clock() - self._last_answer > self._limit

    def check(self) -> None:
        """Before a request: fails it at once during an outage."""
        if self.ongoing:
            raise TwilioUnavailable(self._limit, self._last_failure or "")
