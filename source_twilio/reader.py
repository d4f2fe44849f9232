"""Reading a stream's slices ahead of the CDK, in worker threads, and keeping account of the lists that failed.

The CDK reads a stream's slices one after another. ``SliceReader.run_ahead`` starts reading the next ``depth``
slices in workers while the CDK emits the current one; ``records`` hands a slice's records over in order
(``handover``: a few chunks in memory, the rest on disk), so the output and every STATE message are those of a
sequential sync and memory holds about a page per slice read ahead. A stream started before the CDK reaches it
(``Early``) keeps starting slices as its earlier ones finish, a few at a time, until the CDK does.

The reader owns every producer it starts, until its records are consumed or the reader is closed: a slice
skipped or failed, the CDK giving up on the stream, a signal, each cancels what is running. A list that fails
for good (retries exhausted, an answer Twilio will not change) is recorded under its partition and its later
slices are not started; the stream ends incomplete once every other list was read and checkpointed.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_twilio.answers import describe
from source_twilio.handover import DISK, IN_MEMORY, Handover, SpillFile
from source_twilio.health import TwilioUnavailable
from source_twilio.workers import Cancelled, WorkerPool, raise_if_stopping

P = TypeVar("P")

NOT_YET = object()
"""What a plan source answers when its next slices depend on a request still in flight (see ``Probe``)."""
NOT_YET_POLL_SECONDS = 0.005
CHUNK = 200  # records handed over at a time
EARLY_HELD = 512  # slices a stream started early holds, read or being read, before the CDK reaches it
EARLY_DISK_SHARE = 0.5
"""Of the read-ahead's disk budget, what streams started early may fill before they start no more slices: the rest
is the stream being emitted's, whose slices read ahead would otherwise wait for the output."""


class SkipList(Exception):
    """The list is not read, and that is not a failure (a subaccount Twilio reports suspended or closed)."""


class ListFailed(Exception):
    """The list cannot be read in this sync; the stream ends incomplete, naming it."""

    def __init__(self, detail: str, failure_type: FailureType) -> None:
        super().__init__(detail)
        self.detail = detail
        self.failure_type = failure_type


@dataclass(frozen=True)
class SliceDone:
    """Handed over after a slice's records: what the emitting thread commits to the state, and the (estimated)
    bytes of the records it emitted."""

    versions: frozenset[int]
    emitted_bytes: float = 0.0
    read: bool = True  # False: the window was not read (a probe that found it too long): the cursor stays
    children: Mapping[int, frozenset[int]] = field(default_factory=dict)  # by parent version (see ``emission``)


class RangeTooLong(Exception):
    """A probe's range does not fit in one page: it is read in windows instead."""


class Probe:
    """Whether a partition's probe read its whole range: its windows are planned only once it answers, and only
    if it did not (a covered partition's windows are never slices)."""

    def __init__(self) -> None:
        self.answered = threading.Event()
        self.covered = False

    def answer(self, covered: bool) -> None:
        if not self.answered.is_set():
            self.covered = covered
            self.answered.set()


@dataclass(frozen=True)
class Early:
    """A stream started before the CDK reaches it (``prefetch``): until ``reached`` is set, a slice starts whenever
    one of ``slots`` is free, and its records wait on disk, so that the stream's requests overlap the ones before it
    without holding memory."""

    reached: threading.Event  # the CDK reached the stream, or the sync ended
    slots: threading.Semaphore  # slices read at once by every stream started early: the workers set aside for them


@dataclass(frozen=True)
class Failure:
    detail: str
    failure_type: FailureType


class SliceReader(Generic[P]):
    """Reads slices ahead, hands their records over in order, and remembers which partitions failed."""

    def __init__(
        self,
        pool: WorkerPool,
        depth: int,
        read: Callable[[P], Iterable[Any]],
        key_of: Callable[[P], str],
        gate: Callable[[P], None],
        pack: Callable[[list[Any]], list[Any]] | None = None,
    ) -> None:
        """``read`` yields a slice's records in lists, and markers; ``gate`` raises ``SkipList`` or ``ListFailed`` for
        a slice not to read; ``pack`` turns each run of records ``read`` yields into what is handed over, where it was
        read (see ``chunks``)."""
        self._pool = pool
        self._pack = pack
        self._depth = depth  # slices read ahead while the CDK emits the stream
        self._read = read
        self._key_of = key_of
        self._gate = gate
        self._producers: dict[int, _Producer] = {}  # by id(plan), until its records are taken
        self._started = 0
        self._lock = threading.Lock()
        self.failures: dict[str, Failure] = {}
        self._given_up: set[str] = set()  # partitions a worker gave up on, before the CDK's loop reached them
        self._early_file: SpillFile | None = None  # where the records of slices started early wait

    def run_ahead(self, plans: Iterable[P | object], early: Early | None = None) -> Iterator[P]:
        """The slices, in order, each already being read when the CDK asks for its records. ``plans`` may answer
        ``NOT_YET``: the slices started are handed over meanwhile, and it is asked again. ``early``: the first slice
        is asked for before the CDK reaches the stream, and comes once it does (or once every slice is read)."""
        upcoming: deque[P] = deque()
        source = iter(plans)
        try:
            if early is not None:
                self._read_early(source, upcoming, early)
            while True:
                while len(upcoming) < self._depth:
                    plan = next(source, None)
                    if plan is None:
                        break
                    if plan is NOT_YET:
                        if upcoming:
                            break  # hand over what is ready meanwhile
                        raise_if_stopping()
                        time.sleep(NOT_YET_POLL_SECONDS)
                        continue
                    self._start(plan)
                    upcoming.append(plan)
                if not upcoming:
                    return
                yield upcoming.popleft()
        finally:
            self.close()

    def _read_early(self, source: Iterator[P | object], upcoming: deque[P], early: Early) -> None:
        """Until the CDK reaches the stream: a slice starts whenever a slot is free, and frees it once read. Their
        records wait on disk, in one file written until then."""
        self._early_file = SpillFile(until=early.reached)
        while len(upcoming) < EARLY_HELD and _took_slot(early):
            try:
                plan = _next_ready(source, early.reached)
                producer = None if plan is None else self._start(plan, self._early_file)
            except BaseException:
                early.slots.release()
                raise
            if producer is None:
                early.slots.release()
            else:
                producer.when_finished(early.slots.release)
            if plan is None:
                return
            upcoming.append(plan)

    def records(self, plan: P) -> Iterator[Any]:
        """A slice's records, in order: read ahead, or read here. Nothing, if its partition failed or is skipped."""
        key = self._key_of(plan)
        with self._lock:
            producer = self._producers.pop(id(plan), None)
        try:
            if key in self.failures:
                return
            self._gate(plan)
            if producer is not None:
                yield from producer.items()
            else:
                for chunk in chunks(self._read(plan), self._pack):
                    yield from chunk
        except (SkipList, Cancelled):
            return  # skipped, or stopped because its partition failed: its cursor stays where it was
        except ListFailed as failure:
            self._fail(key, Failure(failure.detail, failure.failure_type))
        except TwilioUnavailable:
            raise
        except AirbyteTracedException as error:
            if error.failure_type == FailureType.config_error:
                raise
            self._fail(key, Failure(failure_detail(error), error.failure_type or FailureType.system_error))
        finally:
            if producer is not None:
                producer.cancel()

    def close(self) -> None:
        """Cancels every producer still running: its worker stops at its next request or hand-over."""
        with self._lock:
            producers = list(self._producers.values())
            self._producers.clear()
        for producer in producers:
            producer.cancel()
        if self._early_file is not None:
            self._early_file.close()

    # --- internals ----------------------------------------------------------------------------------------------

    def _start(self, plan: P, early_file: SpillFile | None = None) -> _Producer | None:
        key = self._key_of(plan)
        if key in self._given_up or key in self.failures:
            return None  # records() finds it failed and reads nothing
        with self._lock:
            self._started += 1
            order = self._started

        def produce() -> Iterator[Any]:
            if key in self._given_up:
                return
            self._gate(plan)
            try:
                yield from self._read(plan)
            except ListFailed:
                self._give_up(key, order)
                raise
            except AirbyteTracedException as error:
                if error.failure_type != FailureType.config_error:
                    self._give_up(key, order)
                raise

        producer = _Producer(self._pool, produce, key, order, self._pack, early_file)
        with self._lock:
            self._producers[id(plan)] = producer
        return producer

    def _give_up(self, key: str, order: int) -> None:
        """A worker gave up on a list: its later slices are not started, and those running are stopped."""
        with self._lock:
            self._given_up.add(key)
            doomed = [p for p in self._producers.values() if p.key == key and p.order > order]
        for producer in doomed:
            producer.cancel()

    def _fail(self, key: str, failure: Failure) -> None:
        with self._lock:
            self.failures.setdefault(key, failure)
            doomed = {plan_id: p for plan_id, p in self._producers.items() if p.key == key}
            for plan_id in doomed:
                del self._producers[plan_id]
        for producer in doomed.values():
            producer.cancel()


def _took_slot(early: Early) -> bool:
    """Waits for a free slot, with room on disk, and takes it; False once the CDK reached the stream."""
    while not early.reached.is_set():
        if DISK.used_share() >= EARLY_DISK_SHARE:
            early.reached.wait(NOT_YET_POLL_SECONDS)
        elif early.slots.acquire(timeout=NOT_YET_POLL_SECONDS):
            return True
        raise_if_stopping()
    return False


def _next_ready(source: Iterator[P | object], reached: threading.Event) -> P | None:
    """The next plan, once it does not depend on a request in flight; None after the last, or once ``reached``."""
    while not reached.is_set():
        plan = next(source, None)
        if plan is not NOT_YET:
            return plan  # type: ignore[return-value]
        reached.wait(NOT_YET_POLL_SECONDS)
        raise_if_stopping()
    return None


def chunks(items: Iterable[Any], pack: Callable[[list[Any]], list[Any]] | None) -> Iterator[list[Any]]:
    """What ``items`` holds (lists of records, and markers between them) in chunks: runs of at most ``CHUNK``
    records, each packed, and a marker right after the records before it. One hand-over per chunk, not per record;
    ``pack`` gets records only, and may serialize a run at once."""
    run: list[Any] = []
    for item in items:
        if item.__class__ is not list:
            yield [*_packed(run, pack), item]
            run = []
            continue
        run += item
        while len(run) >= CHUNK:
            yield _packed(run[:CHUNK], pack)
            del run[:CHUNK]
    if run:
        yield _packed(run, pack)


def _packed(run: list[Any], pack: Callable[[list[Any]], list[Any]] | None) -> list[Any]:
    return pack(run) if pack and run else run


class _Done:
    pass


_DONE = _Done()


class _Producer:
    """One slice's reading in a worker, handing records over in chunks (see ``handover``)."""

    def __init__(
        self,
        pool: WorkerPool,
        produce: Callable[[], Iterable[Any]],
        key: str,
        order: int,
        pack: Callable[[list[Any]], list[Any]] | None,
        early_file: SpillFile | None,
    ) -> None:
        """``early_file``: started before the CDK reached its stream, it keeps its records there rather than in
        memory, as long as that file takes them."""
        self.key = key  # the partition it reads
        self.order = order  # its place among the slices started
        self._pack = pack
        self._cancelled = threading.Event()
        in_memory = IN_MEMORY if early_file is None else 0
        self._handover = Handover(self._cancelled, in_memory=in_memory, shared=early_file)
        self._task = pool.submit(self._run, produce, cancelled=self._cancelled)

    def when_finished(self, callback: Callable[[], None]) -> None:
        """``callback`` once its worker is done with it (or it will never run), at once if it is."""
        self._task.add_done_callback(lambda _: callback())

    def _run(self, produce: Callable[[], Iterable[Any]]) -> None:
        try:
            for chunk in chunks(produce(), self._pack):
                self._handover.put(chunk)
            self._handover.put(_DONE)
        except Cancelled:
            return
        except BaseException as error:  # handed to the consumer, which raises it where the CDK expects it
            try:
                self._handover.put(error)
            except Cancelled:
                return

    def items(self) -> Iterator[Any]:
        try:
            while True:
                item = self._handover.get()
                if item is _DONE:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield from item
        finally:
            self.cancel()  # a consumer that stops early must not leave the worker waiting

    def cancel(self) -> None:
        self._cancelled.set()
        self._handover.close()


def failure_detail(error: AirbyteTracedException) -> str:
    """Twilio's own answer where the CDK kept it (the last response of an exhausted retry), else the message."""
    cause = getattr(error, "_exception", None) or error.__cause__
    response = getattr(cause, "response", None)
    if isinstance(response, requests.Response):
        return f"{describe(response)}, after retries"
    if isinstance(response, Exception):
        return f"{type(response).__name__} ({response}), after retries"
    return error.message or str(error)


def incomplete_error(stream_name: str, failures: dict[str, Failure], describe_key: Callable[[str], str]) -> Exception:
    """The error a stream ends with when lists failed: every list named; transient only if every cause was."""
    listed = "; ".join(f"{describe_key(key)}: {failure.detail}" for key, failure in failures.items())
    kinds = {failure.failure_type for failure in failures.values()}
    if FailureType.config_error in kinds:
        kind = FailureType.config_error
    elif kinds == {FailureType.transient_error}:
        kind = FailureType.transient_error
    else:
        kind = FailureType.system_error
    return AirbyteTracedException(
        message=(
            f"Stream {stream_name} is incomplete: Twilio did not serve {len(failures)} of its lists ({listed}). "
            "Everything else was synced; the next sync starts again where these lists stopped."
        ),
        internal_message=listed,
        failure_type=kind,
    )
