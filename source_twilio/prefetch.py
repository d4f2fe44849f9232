"""Starting the next streams' reading while the CDK emits the current one.

The CDK reads the catalog's streams one after another, so a stream's first request used to wait for the stream
before it to emit its last record: a catalog of small streams cost a round trip per stream, one after another,
and the last pages of a long stream left the other accounts' allowance idle. When the CDK reaches a stream, the
``AHEAD`` streams after it start too, together reading up to ``THREADS`` slices at a time, the next as one is read,
their records waiting on disk until the CDK reaches them (``reader.Early``); then they read ahead as any stream
does. The output is that of a sequential sync: records are handed over in order, and a stream's state moves only as
the CDK emits it.

A child stream whose parent is in the catalog does not start early: it takes its parents from the parent's pages
once they are read (``sharing``), which it would otherwise read again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from typing import Any, Protocol

from airbyte_cdk.models import ConfiguredAirbyteStream

from source_twilio.definitions import BY_NAME
from source_twilio.reader import Early
from source_twilio.workers import WorkerPool, wait_for

AHEAD = 3  # streams started before the CDK reaches them
THREADS = 8
"""Slices the streams started early read at once, together: the slice workers a sync needs beyond its own, so that
the stream being emitted never waits for a worker behind them. Each costs about a megabyte, a page in hand; measured
with 4, 8 and 12: the cpubound bench (calls early while messages are emitted) took 3.9, 3.3 and 3.3 s, the standard
bench's peak RSS was 84, 86 and 88 MB (requests in flight are held to ``num_workers`` anyway)."""

_END = object()


class EarlyStream(Protocol):
    name: str

    def start_early(
        self, configured: ConfiguredAirbyteStream, state: Mapping[str, Any], early: Early
    ) -> Iterator[Any]: ...


class Prefetcher:
    """Which streams have started early, and their slices, for the CDK to take when it reaches each."""

    def __init__(
        self,
        order: Sequence[ConfiguredAirbyteStream],
        streams: Mapping[str, EarlyStream],
        state_of: Callable[[str], Mapping[str, Any]],
    ) -> None:
        """``order``: the catalog in the order the CDK reads it; ``state_of``: a stream's state as the sync began."""
        self._order = [configured for configured in order if configured.stream.name in streams]
        self._position = {configured.stream.name: index for index, configured in enumerate(self._order)}
        self._streams = streams
        self._state_of = state_of
        self._reached = -1
        self._started: dict[str, tuple[Future[tuple[Iterator[Any], Any]], threading.Event]] = {}
        self._pool = WorkerPool(AHEAD, "early")
        self._slots = threading.Semaphore(THREADS)  # slices the streams started early read at once
        self._lock = threading.Lock()
        self._closed = False

    def reached(self, name: str) -> Iterator[Any] | None:
        """The CDK reached this stream: the ``AHEAD`` after it start, and its slices are returned if it started
        early (the first waited for), else None."""
        with self._lock:
            self._reached = self._position.get(name, self._reached)
            started, reached = self._started.pop(name, (None, None))
            if reached is not None:
                reached.set()
            if not self._closed:
                self._start_following()
        return None if started is None else _continued(started)

    def _start_following(self) -> None:
        for configured in self._order[self._reached + 1 : self._reached + 1 + AHEAD]:
            name = configured.stream.name
            if name not in self._started and self._may_start(name):
                stream, early = self._streams[name], Early(threading.Event(), self._slots)
                started = self._pool.submit(_first, stream, configured, self._state_of(name), early)
                self._started[name] = started, early.reached

    def close(self) -> None:
        """The sync is over: streams the CDK never reached stop reading."""
        with self._lock:
            self._closed = True
            started, self._started = self._started, {}
        self._pool.close()
        for future, reached in started.values():
            reached.set()  # it stops starting slices
            future.add_done_callback(_stop)  # at once if its first slice is in, else once it is

    def _may_start(self, name: str) -> bool:
        definition = BY_NAME.get(name)
        child_of = definition.child_of if definition else None
        if child_of is None or child_of.parent not in self._position:
            return True
        return self._position[child_of.parent] < self._reached  # the parent is emitted: its pages are kept


def _first(
    stream: EarlyStream, configured: ConfiguredAirbyteStream, state: Mapping[str, Any], early: Early
) -> tuple[Iterator[Any], Any]:
    """Runs in a worker: the stream's slices begin and are read until the CDK reaches it (or all are read); then the
    first is kept."""
    slices = stream.start_early(configured, state, early)
    return slices, next(slices, _END)


def _stop(started: Future[tuple[Iterator[Any], Any]]) -> None:
    if not started.cancelled() and started.exception() is None:
        started.result()[0].close()  # the generator's end closes its reader, which cancels its slices


def _continued(started: Future[tuple[Iterator[Any], Any]]) -> Iterator[Any]:
    slices, first = wait_for(started)
    if first is _END:
        return
    yield first
    yield from slices
