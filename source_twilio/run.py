"""Entry point of the connector (``main.py`` and the ``source-twilio`` console script)."""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from airbyte_cdk.entrypoint import AirbyteEntrypoint, launch
from airbyte_cdk.logger import PRINT_BUFFER
from airbyte_cdk.models import AirbyteMessage, Type

from source_twilio.preflight import preflight
from source_twilio.source import SourceTwilio
from source_twilio.workers import SyncInterrupted, interrupt

STOP_GRACE_SECONDS = 10.0  # after a signal: time to stop at a safe point before the process ends regardless

_serialize_with_cdk = AirbyteEntrypoint.airbyte_message_to_string


def serialize(message: AirbyteMessage) -> str:
    """Records are written with their nulls: the CDK's serializer omits every None, also inside record data,
    so a field Twilio sent as null would vanish from the warehouse row instead of arriving as null."""
    if message.type == Type.RECORD and message.record is not None:
        record: dict[str, Any] = {
            "stream": message.record.stream,
            "data": message.record.data,
            "emitted_at": message.record.emitted_at,
        }
        if message.record.namespace is not None:
            record["namespace"] = message.record.namespace
        return orjson.dumps({"type": "RECORD", "record": record}).decode()
    return _serialize_with_cdk(message)


def tune_malloc() -> None:
    """Keep glibc from holding freed page buffers: a few arenas instead of one per thread, and a fixed
    threshold above which buffers go straight back to the system. Without it, peak memory creeps up with
    the volume of data read, not its size at any moment. No-op outside glibc."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(M_ARENA_MAX, 2)
        libc.mallopt(M_MMAP_THRESHOLD, 128 * 1024)
    except (OSError, AttributeError):
        pass


M_ARENA_MAX = -8
M_MMAP_THRESHOLD = -3


def run(args: list[str] | None = None) -> None:
    args = sys.argv[1:] if args is None else args
    tune_malloc()
    failure = preflight(args)
    if failure is not None:
        print(failure.message_line, flush=True)
        sys.exit(failure.exit_code)
    AirbyteEntrypoint.airbyte_message_to_string = staticmethod(serialize)  # type: ignore[method-assign]
    with stopping_on_signals():
        try:
            launch(SourceTwilio(), args)
        except SyncInterrupted as interrupted:
            name = signal.Signals(interrupted.signum).name if interrupted.signum else "a signal"
            logging.getLogger("airbyte").info(
                f"Stopped by {name}: the last STATE message emitted is where the next sync resumes."
            )
            PRINT_BUFFER.flush()
            sys.exit(128 + interrupted.signum)


@contextmanager
def stopping_on_signals() -> Iterator[None]:
    """SIGINT and SIGTERM stop the sync at its next safe point (between two records) and end the process within
    ``STOP_GRACE_SECONDS`` whatever it was doing.

    The signals are blocked in every thread and taken by one thread of their own (``sigwait``): a signal handled in
    the main thread interrupts the write it is doing, and a record line written to a full pipe then loses its
    middle. Outside the main thread (a test runner's worker, say) signals are left as they are."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signals = {signal.SIGINT, signal.SIGTERM}
    previous_mask = signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    done = threading.Event()

    def take_signals() -> None:
        while True:
            signum = signal.sigwait(signals)
            if done.is_set():
                return
            interrupt(signum)
            threading.Thread(target=_end_after_grace, args=(signum,), name="stop-watchdog", daemon=True).start()

    taker = threading.Thread(target=take_signals, name="signals", daemon=True)
    taker.start()
    try:
        yield
    finally:
        done.set()
        signal.pthread_kill(taker.ident, signal.SIGTERM)  # ends its wait; the signal is blocked, so taken by it only
        taker.join(timeout=1)
        signal.pthread_sigmask(signal.SIG_SETMASK, previous_mask)


def _end_after_grace(signum: int) -> None:
    threading.Event().wait(STOP_GRACE_SECONDS)
    if PRINT_BUFFER.lock.acquire(timeout=1):  # complete lines only: not while the main thread is printing
        try:
            PRINT_BUFFER.flush()
        finally:
            PRINT_BUFFER.lock.release()
    os._exit(128 + signum)
