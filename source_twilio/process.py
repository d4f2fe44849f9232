"""The connector's process: its output, its signals and how it ends (entered by ``run``)."""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.logger import PRINT_BUFFER
from airbyte_cdk.models import AirbyteMessage, Type
from airbyte_cdk.sources.connector_state_manager import HashableStreamDescriptor

from source_twilio.output import RecordLines, serialize_record
from source_twilio.source import SourceTwilio
from source_twilio.startup import collect_from_now
from source_twilio.workers import SyncInterrupted, interrupt

STOP_GRACE_SECONDS = 5.0  # after a signal: time to stop at a safe point before the process ends regardless


class TwilioEntrypoint(AirbyteEntrypoint):
    """The CDK's entry point, counting the records ``RecordLines`` hold in each STATE message's record count."""

    @staticmethod
    def handle_record_counts(message: AirbyteMessage, stream_message_count: Any) -> AirbyteMessage:
        if isinstance(message, RecordLines):
            assert message.record is not None
            stream_message_count[HashableStreamDescriptor(name=message.record.stream, namespace=None)] += message.count
            return message
        return AirbyteEntrypoint.handle_record_counts(message, stream_message_count)


_serialize_with_cdk = AirbyteEntrypoint.airbyte_message_to_string


def serialize(message: AirbyteMessage) -> str | bytes:
    """Records with their nulls, and ``RecordLines`` as they are, bytes (the CDK's entry point calls its own class's
    serializer by name: it is replaced there, in ``run_process``)."""
    if isinstance(message, RecordLines):
        return message.lines
    if message.type == Type.RECORD and message.record is not None:
        return serialize_record(message)
    return _serialize_with_cdk(message)


def launch(args: list[str]) -> None:
    """The CDK's ``launch``, with our entry point and a source whose streams hand over ``RecordLines``."""
    entrypoint = TwilioEntrypoint(SourceTwilio(record_lines=True))
    parsed_args = entrypoint.parse_args(args)
    with PRINT_BUFFER:
        write_messages(entrypoint.run(parsed_args))


FLUSH_CHARS = 1 << 20
"""Written out once this much is buffered: the CDK's buffer flushes every 0.1 s only, and records read back from
disk (``handover``) came faster than that, tens of MB at a time."""


def write_messages(messages: Iterable[str | bytes]) -> None:
    """Text lines through the CDK's print buffer; record lines (bytes) to stdout's binary buffer, once what the print
    buffer holds is written (or, for a stdout without one, decoded)."""
    binary = getattr(sys.__stdout__, "buffer", None)
    for message in messages:
        with PRINT_BUFFER.lock:  # the line whole: workers log through the same buffer
            if message.__class__ is bytes and binary is not None:
                PRINT_BUFFER.flush()
                binary.write(message)
                binary.write(b"\n")
                continue
            PRINT_BUFFER.write(message if message.__class__ is str else message.decode())  # type: ignore[union-attr]
            PRINT_BUFFER.write("\n")
            if PRINT_BUFFER.buffer.tell() >= FLUSH_CHARS:
                PRINT_BUFFER.flush()


def tune_malloc() -> None:
    """Keep glibc from holding freed page buffers: a few arenas instead of one per thread, and a fixed
    threshold above which buffers go straight back to the system. Without it, peak memory creeps up with
    the volume of data read, not its size at any moment. And keep it from giving back the top of its heap
    each time a page buffer there is freed, only to fault the next one in again. No-op outside glibc."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(M_ARENA_MAX, 2)
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
        libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)
    except (OSError, AttributeError):
        pass


M_TRIM_THRESHOLD = -1
M_ARENA_MAX = -8
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024
"""glibc's largest: above the buffers each page needs. A page of 1,000 messages is about 1 MB, but orjson parses it in
a buffer twelve times that, 11 MB: with a threshold of 4 MB, each page's was mapped, faulted in and unmapped again
(a 60,000-message read: 37,000 page faults, 17,000 with this; the peak RSS 3 MB higher, system time down by a third).
A threshold below a page's own size had every page buffer mapped and unmapped (128 KB: 0.8 s of system time)."""
TRIM_THRESHOLD_BYTES = 64 * 1024 * 1024
"""Free memory kept at the top of a heap before it is given back. Setting the mmap threshold fixes glibc's trim
threshold at its 128 KB default, below a page buffer: a 60,000-message read then faulted in 72,000 pages, half of
them again and again (0.46 s of system time; 0.28 s with this, the peak RSS the same within 1 MB)."""


def run_process(args: list[str]) -> None:
    """``discover``, ``read``, and whatever ``commands`` leaves to the CDK, once ``preflight`` has checked the inputs."""
    tune_malloc()
    collect_from_now()
    AirbyteEntrypoint.airbyte_message_to_string = staticmethod(serialize)  # type: ignore[method-assign]
    with stopping_on_signals():
        try:
            launch(args)
            return
        except SyncInterrupted as interrupted:
            signum = interrupted.signum
            logging.getLogger("airbyte").info(
                f"Stopped by {signal.Signals(signum).name}: the last STATE message emitted is where the next sync resumes."
            )
            PRINT_BUFFER.flush()
    end_by(signum)


def end_by(signum: int) -> None:
    """Ends the process by the signal it was sent, once the sync has stopped cleanly: its parent sees what it would
    see without any handling (PyAirbyte, for one, takes only that, or 0, for success after it sent SIGTERM)."""
    sys.stdout.flush()
    signal.signal(signum, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signum})
    os.kill(os.getpid(), signum)
    sys.exit(128 + signum)  # not reached where the signal's default action ends the process


@contextmanager
def stopping_on_signals() -> Iterator[None]:
    """SIGINT and SIGTERM stop the sync at its next safe point (between two records) and end the process, by that
    signal, within ``STOP_GRACE_SECONDS`` whatever it was doing.

    The signals are blocked in every thread and taken by one thread of their own (``sigwait``): a signal handled in
    the main thread interrupts the write it is doing, and a record line written to a full pipe then loses its
    middle. Outside the main thread (a test runner's worker, say) signals are left as they are."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signals = {signal.SIGINT, signal.SIGTERM}
    previous_mask = signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    done = threading.Event()

    def take_signal() -> None:
        signum = signal.sigwait(signals)
        if not done.is_set():  # one signal starts the stop; a second one waits, blocked, for the watchdog
            interrupt(signum)
            threading.Thread(target=_end_after_grace, args=(signum,), name="stop-watchdog", daemon=True).start()

    taker = threading.Thread(target=take_signal, name="signals", daemon=True)
    taker.start()
    try:
        yield
    finally:
        done.set()
        if taker.is_alive():  # ends its wait; the signal is blocked, so taken by it only
            signal.pthread_kill(taker.ident, signal.SIGTERM)
        taker.join(timeout=1)
        signal.pthread_sigmask(signal.SIG_SETMASK, previous_mask)


def _end_after_grace(signum: int) -> None:
    """The main thread did not reach a safe point in time (it may be blocked writing to a pipe nobody reads)."""
    threading.Event().wait(STOP_GRACE_SECONDS)
    if PRINT_BUFFER.lock.acquire(timeout=1):  # complete lines only: not while the main thread is printing
        try:
            PRINT_BUFFER.flush()
        finally:
            PRINT_BUFFER.lock.release()
    if signum == signal.SIGTERM:  # its action is the default one (only SIGINT has a Python handler): it ends us
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signum})
        os.kill(os.getpid(), signum)
    os._exit(128 + signum)
