"""Concurrency that fits Twilio, and leaves room for the customer's own traffic.

Twilio limits *concurrent* requests per account, across everything that uses the account (the customer's
production applications too), and answers 429 (code 20429) beyond it. Each account gets an adaptive limit: it
starts at ``max_requests_per_account`` (10 by default), drops by a quarter on a 429 (at most once a second, so
one burst counts once) and grows back by one after as many successes as the limit, once ten seconds have passed
without a 429. Twilio's ``Twilio-Concurrent-Requests`` header says how many requests of the account were in
flight: those beyond the sync's own are the customer's, and the sync gives up one of its slots for each (down
to one), so that a busy account is not pushed into 429s by the sync. The limit is applied where every request passes, the transport
adapter of the sync's HTTP session, so retries and all streams count against the same budget. The same
adapter reads Twilio's clock off every answer, tells the outage watch what happened, and refuses to send
for a task that was cancelled or a process that is stopping.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from source_twilio.answers import account_in, describe, read_body
from source_twilio.clock import TwilioClock
from source_twilio.credentials import ACCOUNT_ATTRIBUTE
from source_twilio.health import Outage
from source_twilio.workers import raise_if_stopping

logger = logging.getLogger("airbyte")

PROBE_AFTER_SECONDS = 10.0  # no growth for this long after a 429: Twilio's limit is fixed, probe it rarely
CONCURRENCY_HEADER = "Twilio-Concurrent-Requests"


class AccountLimiter:
    """At most ``limit(account)`` requests in flight per account: adapted to Twilio's 429 answers, less the
    account's other traffic that Twilio reports."""

    def __init__(self, ceiling: int) -> None:
        self._ceiling = ceiling
        self._condition = threading.Condition()
        self._limits: dict[str, int] = {}
        self._others: dict[str, int] = {}  # the account's requests in flight that are not ours, once Twilio answered
        self._in_flight: dict[str, int] = defaultdict(int)
        self._successes: dict[str, int] = defaultdict(int)
        self._last_cut: dict[str, float] = defaultdict(float)
        self.rate_limited = 0

    def limit(self, account: str) -> int:
        with self._condition:
            return self._allowed(account)

    def _allowed(self, account: str) -> int:
        if account not in self._others:
            return 1  # one request first, to learn how busy the account is
        return max(1, min(self._limits.get(account, self._ceiling), self._ceiling - self._others[account]))

    @contextmanager
    def slot(self, account: str) -> Iterator[int]:
        """Holds one of the account's slots; yields how many of the sync's requests are then in flight for it."""
        with self._condition:
            while self._in_flight[account] >= self._allowed(account):
                self._condition.wait()
            self._in_flight[account] += 1
            ours = self._in_flight[account]
        try:
            yield ours
        finally:
            with self._condition:
                self._in_flight[account] -= 1
                self._condition.notify_all()

    def in_flight(self, account: str) -> int:
        with self._condition:
            return self._in_flight[account]

    def on_concurrency(self, account: str, reported: int, ours: int) -> None:
        """Twilio reported ``reported`` requests of the account in flight while ``ours`` of them were the sync's."""
        with self._condition:
            others = max(0, reported - ours)
            if others != self._others.get(account):
                self._others[account] = others
                self._condition.notify_all()

    def on_response(self, account: str, status: int) -> None:
        with self._condition:
            if account not in self._others:  # answered without the header: nothing is known of other traffic
                self._others[account] = 0
                self._condition.notify_all()
            limit = self._limits.get(account, self._ceiling)
            if status == 429:
                self.rate_limited += 1
                self._successes[account] = 0
                now = time.monotonic()
                if limit > 1 and now - self._last_cut[account] > 1.0:
                    self._last_cut[account] = now
                    self._limits[account] = max(1, limit * 3 // 4)
                    logger.info(
                        f"Twilio's concurrency limit reached for account {account}: "
                        f"lowering to {self._limits[account]} concurrent requests."
                    )
            elif status < 400:
                self._successes[account] += 1
                calm = time.monotonic() - self._last_cut[account] > PROBE_AFTER_SECONDS
                if limit < self._ceiling and calm and self._successes[account] >= limit:
                    self._successes[account] = 0
                    self._limits[account] = limit + 1
                    self._condition.notify_all()


class AccountLimitedAdapter(HTTPAdapter):
    """A requests transport adapter that holds a slot for the whole exchange, body included: one of the
    account's (adaptive) and one of the sync's ``total`` (``num_workers``)."""

    def __init__(
        self, limiter: AccountLimiter, default_account: str, total: int, clock: TwilioClock, outage: Outage
    ) -> None:
        super().__init__(pool_connections=4, pool_maxsize=total)
        self._limiter = limiter
        self._default_account = default_account
        self._total = threading.BoundedSemaphore(total)
        self._clock = clock
        self._outage = outage

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        raise_if_stopping()
        self._outage.check()
        account = getattr(request, ACCOUNT_ATTRIBUTE, None) or account_in(request.url) or self._default_account
        with self._limiter.slot(account) as ours, self._total:
            raise_if_stopping()  # the wait for a slot can be long
            try:
                response = super().send(request, **kwargs)
                if not kwargs.get("stream"):
                    read_body(response)
            except requests.RequestException as error:
                self._outage.failed(f"{type(error).__name__} ({error})")
                raise
            reported = response.headers.get(CONCURRENCY_HEADER, "")
            if reported.isdigit():
                # Twilio counted when the request arrived: ours then are those in flight when it was sent. Counting
                # the ones sent since would take them for the customer's and leave too few slots to the customer.
                self._limiter.on_concurrency(account, int(reported), ours)
        self._clock.observe(response)
        if response.status_code >= 500:
            self._outage.failed(describe(response))
        else:
            self._outage.answered()
        self._limiter.on_response(account, response.status_code)
        return response
