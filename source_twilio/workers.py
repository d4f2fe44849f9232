"""Every thread the connector starts, and how each of them stops.

Workers are daemon threads: a sync that ends (normally, on an error, or on SIGINT/SIGTERM) never waits for a
worker still sleeping in a back-off or waiting for Twilio, and a worker can never keep the process alive. Each
task runs under a cancellation flag that the thread carries with it (children fetched for a slice inherit the
slice's): once cancelled, the task's next request raises ``Cancelled`` before anything is sent. ``STOPPING`` is
the whole process's flag, set by a signal: every request, and every wait of the main thread, ends with
``SyncInterrupted``.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")
S = TypeVar("S")

STOPPING = threading.Event()
POLL_SECONDS = 0.2


class Cancelled(Exception):
    """The task a worker runs for was cancelled: its result is no longer wanted."""


class SyncInterrupted(BaseException):
    """The process was asked to stop (SIGINT, SIGTERM): unwinds past every ``except Exception``."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"interrupted by signal {signum}")
        self.signum = signum


_INTERRUPTED_BY: list[int] = []
_local = threading.local()


def interrupt(signum: int) -> None:
    _INTERRUPTED_BY.append(signum)
    STOPPING.set()


def raise_if_stopping() -> None:
    """At a point where stopping is safe: the process is stopping, or this thread's task was cancelled."""
    if STOPPING.is_set():
        raise SyncInterrupted(_INTERRUPTED_BY[0] if _INTERRUPTED_BY else 0)
    cancelled: threading.Event | None = getattr(_local, "cancelled", None)
    if cancelled is not None and cancelled.is_set():
        raise Cancelled


def current_cancellation() -> threading.Event | None:
    return getattr(_local, "cancelled", None)


class WorkerPool:
    """Up to ``size`` daemon threads running submitted calls; each call runs under its submitter's cancellation."""

    def __init__(self, size: int, name: str) -> None:
        self._size = size
        self._name = name
        self._tasks: queue.SimpleQueue[_Task | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._idle = 0  # threads waiting for a task
        self._queued = 0  # tasks waiting for a thread
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, function: Callable[..., T], *args: Any, cancelled: threading.Event | None = None) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            if self._closed:
                future.set_exception(Cancelled())
                return future
            self._queued += 1
            if self._queued > self._idle and len(self._threads) < self._size:
                thread = threading.Thread(target=self._work, name=f"{self._name}-{len(self._threads)}", daemon=True)
                self._threads.append(thread)
                self._idle += 1
                thread.start()
        self._tasks.put(_Task(future, lambda: function(*args), cancelled or current_cancellation()))
        return future

    def _work(self) -> None:
        while True:
            task = self._tasks.get()
            with self._lock:
                self._idle -= 1
                self._queued -= task is not None
            if task is None:
                return
            task.run()
            with self._lock:
                self._idle += 1

    def close(self) -> None:
        """No more tasks; threads end once their current call returns (cancel its task to make that prompt)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            threads = len(self._threads)
        for _ in range(threads):
            self._tasks.put(None)

    def join(self, timeout: float) -> bool:
        """After ``close``: waits for every thread to end; False if some were still running at the deadline."""
        deadline = time.monotonic() + timeout
        for thread in list(self._threads):
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in self._threads)


class _Task:
    def __init__(self, future: Future[Any], call: Callable[[], Any], cancelled: threading.Event | None) -> None:
        self.future, self.call, self.cancelled = future, call, cancelled

    def run(self) -> None:
        if not self.future.set_running_or_notify_cancel():
            return
        _local.cancelled = self.cancelled
        try:
            if self.cancelled is not None and self.cancelled.is_set():
                raise Cancelled
            self.future.set_result(self.call())
        except BaseException as error:  # handed to whoever waits for the result
            self.future.set_exception(error)
        finally:
            _local.cancelled = None


def wait_for(future: Future[T]) -> T:
    """The future's result; from the main thread, ends with ``SyncInterrupted`` as soon as the process stops."""
    while True:
        raise_if_stopping()
        try:
            return future.result(timeout=POLL_SECONDS)
        except TimeoutError:
            continue


def ordered_map(pool: WorkerPool, function: Callable[[T], S], items: Iterable[T], ahead: int) -> Iterator[S]:
    """``map`` over the pool with at most ``ahead`` calls running, results in input order."""
    pending: deque[Future[S]] = deque()
    try:
        for item in items:
            pending.append(pool.submit(function, item))
            if len(pending) >= ahead:
                yield wait_for(pending.popleft())
        while pending:
            yield wait_for(pending.popleft())
    finally:
        for future in pending:
            future.cancel()
