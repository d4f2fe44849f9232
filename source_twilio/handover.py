"""A slice's records between the worker that reads them and the thread that emits them.

The CDK emits slices in order, so a slice read ahead waits for the ones before it. With only a small queue between
them, a worker reading ahead stopped after a few hundred records: a first sync's one pass over each account's
messages was read one account after another, the others waiting for the CDK with their allowance idle. Here the
first ``IN_MEMORY`` chunks wait in memory as before; later ones are written to an unlinked temporary file and read
back in order when their turn comes. Memory stays what it was; the files of all slices together hold at most
``ON_DISK_BYTES``, and a slice read ahead waits only once that is reached.
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


DISK = DiskBudget()


@dataclass(frozen=True)
class _OnDisk:
    offset: int
    length: int


class Handover:
    """Items handed over in order from one producing thread to one consuming thread: chunks (lists), which may wait
    on disk, and any other item (an end marker, an error), which waits in memory."""

    def __init__(self, cancelled: threading.Event, disk: DiskBudget = DISK) -> None:
        self._cancelled = cancelled
        self._disk = disk
        self._items: deque[Any] = deque()
        self._in_memory = 0  # chunks among the items
        self._changed = threading.Condition()
        self._file: IO[bytes] | None = None
        self._written = 0  # bytes in the file, taken from the budget
        self._file_lock = threading.Lock()  # the file is written by the producer, read and closed by the consumer

    def put(self, item: Any) -> None:
        """Hands ``item`` over; waits only while memory and the disk budget are both full. ``Cancelled`` once
        cancelled."""
        if self._hand_over_in_memory(item, isinstance(item, list)):
            return
        data = pickle.dumps(item, pickle.HIGHEST_PROTOCOL)
        with self._changed:
            while True:
                if self._hand_over_in_memory(item, True, locked=True):
                    return
                if self._disk.take(len(data)):
                    break
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
            if self._file is not None:
                self._file.close()
                self._file = None
            written, self._written = self._written, 0
        self._disk.give_back(written)
        with self._changed:
            self._changed.notify_all()

    def _hand_over_in_memory(self, item: Any, chunk: bool, locked: bool = False) -> bool:
        """Appends ``item`` if it need not wait on disk (not a chunk, or room in memory); raises ``Cancelled``."""
        if not locked:
            with self._changed:
                return self._hand_over_in_memory(item, chunk, locked=True)
        if self._cancelled.is_set():
            raise Cancelled
        if chunk and self._in_memory >= IN_MEMORY:
            return False
        self._items.append(item)
        self._in_memory += chunk
        self._changed.notify_all()
        return True

    def _write(self, data: bytes) -> _OnDisk:
        with self._file_lock:
            if self._cancelled.is_set():
                self._disk.give_back(len(data))
                raise Cancelled
            if self._file is None:
                self._file = tempfile.TemporaryFile(prefix="source-twilio-")  # noqa: SIM115 (closed by close())
            offset = self._written
            os.pwrite(self._file.fileno(), data, offset)
            self._written += len(data)
        return _OnDisk(offset, len(data))

    def _read(self, on_disk: _OnDisk) -> Any:
        with self._file_lock:
            if self._file is None:
                raise Cancelled
            data = os.pread(self._file.fileno(), on_disk.length, on_disk.offset)
        return pickle.loads(data)
