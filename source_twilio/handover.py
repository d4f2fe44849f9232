"""A slice's records between the worker that reads them and the thread that emits them.

The CDK emits slices in order, so a slice read ahead waits for the ones before it. With only a small queue between
them, a worker reading ahead stopped after a few hundred records: a first sync's one pass over each account's
messages was read one account after another, the others waiting for the CDK with their allowance idle. Here the
first ``IN_MEMORY`` chunks wait in memory as before; later ones are written to an unlinked temporary file and read
back in order when their turn comes. Memory stays what it was; the files of all slices together hold at most
``ON_DISK_BYTES``, and a slice read ahead waits only once that is reached. The slices of a stream the CDK has not
reached yet may be many (``reader.Early``): they keep none in memory while the budget lasts, and share one file.
"""

from __future__ import annotations

import os
import pickle
import tempfile
import threading
from collections import deque
from dataclasses import dataclass
from typing import IO, Any

from source_twilio.workers import POLL_SECONDS, Cancelled, raise_if_stopping

IN_MEMORY = 2  # chunks: with the page being read, what a slice read ahead holds in memory
ON_DISK_BYTES = 256 * 2**20  # in the files of every slice read ahead, together


class DiskBudget:
    """The bytes the slices' files may hold together; a file's bytes are given back when it is closed."""

    def __init__(self) -> None:
        self._used = 0
        self._lock = threading.Lock()

    def take(self, size: int) -> bool:
        with self._lock:
            if self._used + size > ON_DISK_BYTES:
                return False
            self._used += size
            return True

    def give_back(self, size: int) -> None:
        with self._lock:
            self._used -= size

    def used_share(self) -> float:
        return self._used / ON_DISK_BYTES


DISK = DiskBudget()


@dataclass(frozen=True)
class _OnDisk:
    file: SpillFile
    offset: int
    length: int


class SpillFile:
    """An unlinked temporary file, made at the first write, that chunks are appended to and read back from.
    ``until``: it takes nothing more once that is set. A file shared by the slices a stream starts early is written
    only until the CDK reaches the stream: its bytes are freed when the stream ends, so it must stop growing."""

    def __init__(self, until: threading.Event | None = None) -> None:
        self._until = until
        self._file: IO[bytes] | None = None
        self._end = 0
        self._closed = False
        self._lock = threading.Lock()

    def append(self, data: bytes) -> _OnDisk | None:
        """Where ``data`` now is; None if the file takes no more."""
        with self._lock:
            if self._closed or (self._until is not None and self._until.is_set()):
                return None
            if self._file is None:
                self._file = tempfile.TemporaryFile(prefix="source-twilio-")  # noqa: SIM115 (closed by close())
            offset = self._end
            os.pwrite(self._file.fileno(), data, offset)
            self._end += len(data)
        return _OnDisk(self, offset, len(data))

    def read(self, at: _OnDisk) -> bytes | None:
        """The bytes written there; None once the file is closed."""
        with self._lock:
            return None if self._file is None else os.pread(self._file.fileno(), at.length, at.offset)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._file is not None:
                self._file.close()
                self._file = None


class Handover:
    """Items handed over in order from one producing thread to one consuming thread: chunks (lists), which may wait
    on disk, and any other item (an end marker, an error), which waits in memory."""

    def __init__(
        self,
        cancelled: threading.Event,
        disk: DiskBudget = DISK,
        in_memory: int = IN_MEMORY,
        shared: SpillFile | None = None,
    ) -> None:
        """``shared``: a file written before this slice's own, while it takes more."""
        self._cancelled = cancelled
        self._disk = disk
        self._items: deque[Any] = deque()
        self._in_memory = 0  # chunks among the items
        self._in_memory_at_most = in_memory
        self._changed = threading.Condition()
        self._shared = shared
        self._file = SpillFile()
        self._written = 0  # bytes written to either file, taken from the budget
        self._file_lock = threading.Lock()  # the file is written by the producer, read and closed by the consumer

    def put(self, item: Any) -> None:
        """Hands ``item`` over; waits only while memory and the disk budget are both full. ``Cancelled`` once
        cancelled."""
        if self._hand_over_in_memory(item, isinstance(item, list), self._in_memory_at_most):
            return
        data = pickle.dumps(item, pickle.HIGHEST_PROTOCOL)
        with self._changed:
            while True:
                if self._hand_over_in_memory(item, True, self._in_memory_at_most, locked=True):
                    return
                if self._disk.take(len(data)):
                    break
                if self._hand_over_in_memory(item, True, IN_MEMORY, locked=True):
                    return  # the budget is spent: as many in memory as any slice, so that the consumer gets them
                self._changed.wait(POLL_SECONDS)
        on_disk = self._write(data)
        with self._changed:
            self._items.append(on_disk)
            self._changed.notify_all()

    def get(self) -> Any:
        """The next item, waiting for it; ``Cancelled`` if the producer stopped without handing more over."""
        with self._changed:
            while not self._items:
                raise_if_stopping()
                if self._cancelled.is_set():
                    raise Cancelled
                self._changed.wait(POLL_SECONDS)
            item = self._items.popleft()
            if isinstance(item, list):
                self._in_memory -= 1
                self._changed.notify_all()
        return self._read(item) if isinstance(item, _OnDisk) else item

    def close(self) -> None:
        """Frees the file and its share of the budget (the producer's later puts raise ``Cancelled``: its task is
        cancelled first)."""
        with self._file_lock:
            self._file.close()
            written, self._written = self._written, 0
        self._disk.give_back(written)
        with self._changed:
            self._changed.notify_all()

    def _hand_over_in_memory(self, item: Any, chunk: bool, at_most: int, locked: bool = False) -> bool:
        """Appends ``item`` if it need not wait on disk (not a chunk, or fewer than ``at_most`` chunks in memory);
        raises ``Cancelled``."""
        if not locked:
            with self._changed:
                return self._hand_over_in_memory(item, chunk, at_most, locked=True)
        if self._cancelled.is_set():
            raise Cancelled
        if chunk and self._in_memory >= at_most:
            return False
        self._items.append(item)
        self._in_memory += chunk
        self._changed.notify_all()
        return True

    def _write(self, data: bytes) -> _OnDisk:
        with self._file_lock:
            on_disk = None
            if not self._cancelled.is_set():
                on_disk = (self._shared and self._shared.append(data)) or self._file.append(data)
            if on_disk is None:  # cancelled, or closed
                self._disk.give_back(len(data))
                raise Cancelled
            self._written += len(data)
        return on_disk

    def _read(self, on_disk: _OnDisk) -> Any:
        data = on_disk.file.read(on_disk)
        if data is None:
            raise Cancelled
        return pickle.loads(data)
