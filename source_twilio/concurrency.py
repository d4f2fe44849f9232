"""Concurrency that fits Twilio: parallel requests, at most a per-account number in flight.

Twilio limits *concurrent* requests per account and answers 429 (code 20429) beyond it. Each account
gets an adaptive limit: it starts at ``num_workers``, drops by a quarter on a 429 (at most once a
second, so one burst counts once) and grows back by one after as many successes as the limit, once
ten seconds have passed without a 429. The limit is applied
where every request passes, the transport adapter of each stream's HTTP session, so retries and all
streams count against the same budget.

Work runs ahead of the CDK's (sequential) read loop: ``SlicePipeline`` reads the next slices of a stream
in worker threads while the CDK emits the current one, and ``ordered_map`` fetches the children of a
slice's parents in parallel. Both hand results back in the original order, through bounded queues, so
the output and its STATE messages are those of a sequential sync and memory does not grow with data.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Hashable, Iterable, Iterator
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from typing import Any, TypeVar

import requests
from requests.adapters import HTTPAdapter

from source_twilio.errors import account_in

logger = logging.getLogger("airbyte")

T = TypeVar("T")
S = TypeVar("S")

CHUNK = 200  # records handed over at a time
QUEUED_CHUNKS = 2  # per slice read ahead: with the page being read, what a slice holds in memory
POLL_SECONDS = 0.2
PROBE_AFTER_SECONDS = 10.0  # no growth for this long after a 429: Twilio's limit is fixed, probe it rarely


class AccountLimiter:
    """At most ``limit(account)`` requests in flight per account, adapted to Twilio's 429 answers."""

    def __init__(self, ceiling: int) -> None:
        self._ceiling = ceiling
        self._condition = threading.Condition()
        self._limits: dict[str, int] = {}
        self._in_flight: dict[str, int] = defaultdict(int)
        self._successes: dict[str, int] = defaultdict(int)
        self._last_cut: dict[str, float] = defaultdict(float)
        self.rate_limited = 0

    def limit(self, account: str) -> int:
        with self._condition:
            return self._limits.get(account, self._ceiling)

    @contextmanager
    def slot(self, account: str) -> Iterator[None]:
        with self._condition:
            while self._in_flight[account] >= self._limits.get(account, self._ceiling):
                self._condition.wait()
            self._in_flight[account] += 1
        try:
            yield
        finally:
            with self._condition:
                self._in_flight[account] -= 1
                self._condition.notify_all()

    def on_response(self, account: str, status: int) -> None:
        with self._condition:
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

    def __init__(self, limiter: AccountLimiter, default_account: str, total: int) -> None:
        super().__init__(pool_connections=4, pool_maxsize=total)
        self._limiter = limiter
        self._default_account = default_account
        self._total = threading.BoundedSemaphore(total)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        account = account_in(request.url) or self._default_account
        with self._limiter.slot(account), self._total:
            response = super().send(request, **kwargs)
            if not kwargs.get("stream"):
                _ = response.content
        self._limiter.on_response(account, response.status_code)
        return response


class _Done:
    pass


_DONE = _Done()


class _Producer:
    """Runs one slice's reading in a worker thread, handing records over in chunks through a bounded queue."""

    def __init__(self, executor: Executor, produce: Callable[[], Iterable[Any]]) -> None:
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=QUEUED_CHUNKS)
        self._cancelled = threading.Event()
        self._future = executor.submit(self._run, produce)

    def _run(self, produce: Callable[[], Iterable[Any]]) -> None:
        try:
            chunk: list[Any] = []
            for item in produce():
                chunk.append(item)
                if len(chunk) >= CHUNK:
                    self._put(chunk)
                    chunk = []
            self._put(chunk)
            self._put(_DONE)
        except _Cancelled:
            return
        except BaseException as error:  # handed to the consumer, which raises it where the CDK expects
            try:
                self._put(error)
            except _Cancelled:
                return

    def _put(self, item: Any) -> None:
        while not self._cancelled.is_set():
            try:
                self._queue.put(item, timeout=POLL_SECONDS)
                return
            except queue.Full:
                continue
        raise _Cancelled

    def items(self) -> Iterator[Any]:
        try:
            while True:
                item = self._queue.get()
                if item is _DONE:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield from item
        finally:
            self.cancel()  # a consumer that stops early must not leave the worker waiting

    def cancel(self) -> None:
        self._cancelled.set()


class _Cancelled(Exception):
    pass


class SlicePipeline:
    """Reads up to ``depth`` slices of a stream ahead of the one the CDK is emitting."""

    def __init__(self, executor: Executor, depth: int) -> None:
        self._executor = executor
        self._depth = depth
        self._producers: dict[Hashable, _Producer] = {}

    def run_ahead(
        self, slices: Iterable[S], key: Callable[[S], Hashable], produce: Callable[[S], Iterable[Any]]
    ) -> Iterator[S]:
        upcoming: deque[S] = deque()
        source = iter(slices)
        try:
            while True:
                while len(upcoming) < self._depth:
                    next_slice = next(source, None)
                    if next_slice is None:
                        break
                    self._producers[key(next_slice)] = _Producer(self._executor, lambda s=next_slice: produce(s))
                    upcoming.append(next_slice)
                if not upcoming:
                    return
                yield upcoming.popleft()
        finally:
            for producer in self._producers.values():
                producer.cancel()
            self._producers.clear()

    def take(self, slice_key: Hashable) -> Iterator[Any] | None:
        """The records of a slice read ahead, in order; None if it was not (read it directly)."""
        producer = self._producers.pop(slice_key, None)
        return producer.items() if producer else None


def ordered_map(executor: Executor, function: Callable[[T], S], items: Iterable[T], ahead: int) -> Iterator[S]:
    """``map`` over a thread pool with at most ``ahead`` calls running, results in input order."""
    pending: deque[Future[S]] = deque()
    try:
        for item in items:
            pending.append(executor.submit(function, item))
            if len(pending) >= ahead:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()


def interleave(sequences: Iterable[list[T]]) -> Iterator[T]:
    """Round-robin over the sequences: the first of each, then the second of each, and so on."""
    lists = list(sequences)
    for index in range(max(map(len, lists), default=0)):
        for items in lists:
            if index < len(items):
                yield items[index]
