"""The slice reader: records handed over in order, failures kept per partition, and no worker left behind."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_twilio import handover as handover_module
from source_twilio import reader as reader_module
from source_twilio import workers
from source_twilio.handover import IN_MEMORY, DiskBudget, Handover, SpillFile
from source_twilio.reader import NOT_YET, Early, ListFailed, SkipList, SliceReader, chunks
from source_twilio.workers import STOPPING, SyncInterrupted, WorkerPool


@dataclass(frozen=True)
class Plan:
    key: str
    number: int


def plans(*keys: str, per_key: int = 3) -> list[Plan]:
    return [Plan(key, n) for n in range(per_key) for key in keys]


def no_gate(plan: Plan) -> None:
    return None


def reader_for(pool: WorkerPool, read, depth: int = 4, gate=no_gate) -> SliceReader[Plan]:
    return SliceReader(pool, depth, read, lambda plan: plan.key, gate)


def consume(reader: SliceReader[Plan], slices: list[Plan]) -> dict[tuple[str, int], list]:
    return {(plan.key, plan.number): list(reader.records(plan)) for plan in reader.run_ahead(slices)}


def assert_workers_end(pool: WorkerPool) -> None:
    pool.close()
    deadline = time.monotonic() + 5
    while any(thread.is_alive() for thread in pool._threads) and time.monotonic() < deadline:
        threading.Event().wait(0.05)
    assert not [thread.name for thread in pool._threads if thread.is_alive()], "a worker was left running"


def test_given_slices_when_consumed_in_order_then_each_gets_its_own_records_in_order():
    pool = WorkerPool(3, "test")
    reader = reader_for(pool, lambda plan: [(plan.key, plan.number, i) for i in range(600)])
    got = consume(reader, plans("a", "b"))
    assert got == {(k, n): [(k, n, i) for i in range(600)] for k in "ab" for n in range(3)}
    assert reader.failures == {}
    assert_workers_end(pool)


def test_given_pages_and_markers_when_chunked_then_runs_of_records_are_packed_in_order_and_a_marker_ends_its_chunk(
    monkeypatch,
):
    """``pack`` gets runs of records only (at most ``CHUNK``), so that it may serialize a run at once; a marker
    (a slice's end) comes right after the records before it."""
    monkeypatch.setattr(reader_module, "CHUNK", 4)
    done, failed = object(), object()
    items = [[1, 2, 3], [4, 5], done, [6], [], [7, 8, 9, 10, 11], failed, [12]]
    assert list(chunks(items, lambda run: [tuple(run)])) == [
        [(1, 2, 3, 4)],
        [(5,), done],
        [(6, 7, 8, 9)],
        [(10, 11), failed],
        [(12,)],
    ]
    assert list(chunks(items, None)) == [[1, 2, 3, 4], [5, done], [6, 7, 8, 9], [10, 11, failed], [12]]
    assert list(chunks([done, [], failed], lambda run: [tuple(run)])) == [[done], [failed]]


def test_given_a_slice_failing_for_good_when_its_later_slices_were_read_ahead_then_they_yield_nothing_and_no_worker_is_left():
    """The hang of issue 9: later windows of the failed list were blocked on their full queues forever."""
    pool = WorkerPool(8, "test")

    def read(plan: Plan) -> Iterator:
        if plan.key == "a" and plan.number == 0:
            yield "first"
            raise AirbyteTracedException(message="boom", failure_type=FailureType.transient_error)
        yield from ((plan.key, plan.number, i) for i in range(10_000))  # far more than the queue holds

    reader = reader_for(pool, read, depth=6)
    got = consume(reader, plans("a", "b"))
    assert got[("a", 0)] in ([], ["first"])  # a failed slice: what was read before may or may not be emitted
    assert got[("a", 1)] == [] and got[("a", 2)] == []
    assert all(len(got[("b", n)]) == 10_000 for n in range(3))
    assert set(reader.failures) == {"a"} and reader.failures["a"].failure_type == FailureType.transient_error
    assert_workers_end(pool)


def test_given_the_consumer_stops_early_when_the_reader_closes_then_no_worker_is_left():
    pool = WorkerPool(4, "test")
    reader = reader_for(pool, lambda plan: iter(range(10**7)))
    slices = reader.run_ahead(plans("a", "b", per_key=5))
    first = next(slices)
    next(iter(reader.records(first)))
    slices.close()
    assert_workers_end(pool)


def test_given_a_gate_that_skips_or_fails_a_slice_then_it_is_not_read_and_failures_say_why():
    pool = WorkerPool(2, "test")
    read_keys: list[str] = []

    def gate(plan: Plan) -> None:
        if plan.key == "skipped":
            raise SkipList("suspended")
        if plan.key == "refused":
            raise ListFailed("Twilio refused the account", FailureType.transient_error)

    def read(plan: Plan) -> list:
        read_keys.append(plan.key)
        return [plan.number]

    reader = reader_for(pool, read, gate=gate)
    got = consume(reader, plans("ok", "skipped", "refused"))
    assert {key for key in read_keys} == {"ok"}
    assert got[("skipped", 0)] == [] and got[("refused", 0)] == []
    assert set(reader.failures) == {"refused"}
    assert_workers_end(pool)


def test_given_a_config_error_when_read_then_it_is_raised_not_recorded():
    pool = WorkerPool(2, "test")

    def read(plan: Plan) -> list:
        raise AirbyteTracedException(message="bad credentials", failure_type=FailureType.config_error)

    reader = reader_for(pool, read)
    slices = reader.run_ahead(plans("a"))
    with pytest.raises(AirbyteTracedException, match="bad credentials"):
        list(reader.records(next(slices)))
    slices.close()
    assert_workers_end(pool)


def test_given_a_stop_signal_when_the_consumer_waits_then_it_ends_with_sync_interrupted(monkeypatch):
    pool = WorkerPool(2, "test")
    release = threading.Event()

    def read(plan: Plan) -> Iterator:
        release.wait(10)
        yield 1

    reader = reader_for(pool, read)
    slices = reader.run_ahead(plans("a"))
    threading.Timer(0.3, workers.interrupt, args=(15,)).start()
    try:
        with pytest.raises(SyncInterrupted):
            list(reader.records(next(slices)))
    finally:
        STOPPING.clear()
        workers._INTERRUPTED_BY.clear()
        release.set()
        slices.close()
    assert_workers_end(pool)


def test_given_plans_not_yet_ready_when_run_ahead_then_the_slices_started_are_handed_over_meanwhile():
    pool = WorkerPool(2, "test")
    answered = threading.Event()
    handed: list[Plan] = []

    def source():
        yield Plan("a", 0)
        while not answered.is_set():
            if handed:  # the first slice was handed over while the second was not yet planned
                answered.set()
            yield NOT_YET
        yield Plan("a", 1)

    reader = reader_for(pool, lambda plan: [plan.number])
    for plan in reader.run_ahead(source()):
        handed.append(plan)
        assert list(reader.records(plan)) == [plan.number]
    assert handed == [Plan("a", 0), Plan("a", 1)]
    assert_workers_end(pool)


# --- a stream started before the CDK reaches it ----------------------------------------------------------------


def test_given_a_stream_started_early_then_its_slices_start_as_earlier_ones_finish_with_at_most_its_slots_at_once():
    """Before, a stream started early read its first few slices and then waited for the CDK: a stream of many
    windows was read after the one before it, not beside it."""
    pool = WorkerPool(8, "test")
    slots = threading.Semaphore(2)
    lock, reading, most = threading.Lock(), [0], [0]

    def read(plan: Plan) -> Iterator:
        with lock:
            reading[0] += 1
            most[0] = max(most[0], reading[0])
        threading.Event().wait(0.01)
        with lock:
            reading[0] -= 1
        yield from ((plan.number, i) for i in range(300))

    reader = reader_for(pool, read, depth=2)
    slices = reader.run_ahead(plans("a", per_key=10), Early(threading.Event(), slots))
    first = next(slices)  # every slice started before the CDK takes any (none reached it)
    assert len(reader._producers) == 10
    got = [list(reader.records(plan)) for plan in [first, *slices]]
    assert got == [[(n, i) for i in range(300)] for n in range(10)]
    assert 1 <= most[0] <= 2, most
    assert all(slots.acquire(blocking=False) for _ in range(2)), "every slot is given back"
    assert_workers_end(pool)


def test_given_a_stream_started_early_when_the_cdk_reaches_it_then_it_starts_no_more_early_and_reads_on():
    pool = WorkerPool(8, "test")
    release, started = threading.Event(), threading.Semaphore(0)

    def read(plan: Plan) -> Iterator:
        started.release()
        release.wait(10)
        yield plan.number

    reader = reader_for(pool, read, depth=2)
    early = Early(threading.Event(), threading.Semaphore(2))
    slices = reader.run_ahead(plans("a", per_key=6), early)
    first: list[Plan] = []
    taker = threading.Thread(target=lambda: first.append(next(slices)), daemon=True)
    taker.start()
    assert started.acquire(timeout=5) and started.acquire(timeout=5)
    taker.join(0.2)
    assert taker.is_alive(), "waits for a slot while the stream is not reached"
    early.reached.set()
    taker.join(5)
    assert not taker.is_alive() and len(reader._producers) == 2, "two were started early, no more"
    release.set()
    assert [list(reader.records(plan)) for plan in [*first, *slices]] == [[n] for n in range(6)]
    assert_workers_end(pool)


def test_given_the_disk_budget_half_full_when_a_stream_is_started_early_then_it_starts_no_slice_until_there_is_room(
    monkeypatch,
):
    """Streams started early could fill the read-ahead's whole disk budget, and the stream being emitted would then
    read its slices one after another, each waiting for the output."""
    budget = DiskBudget()
    monkeypatch.setattr(reader_module, "DISK", budget)
    assert budget.take(int(handover_module.ON_DISK_BYTES * reader_module.EARLY_DISK_SHARE))
    pool = WorkerPool(4, "test")
    reads: list[Plan] = []
    reader = reader_for(pool, lambda plan: reads.append(plan) or [plan.number], depth=2)
    early = Early(threading.Event(), threading.Semaphore(2))
    slices = reader.run_ahead(plans("a", per_key=4), early)
    taker = threading.Thread(target=lambda: next(slices), daemon=True)
    taker.start()
    taker.join(0.3)
    assert taker.is_alive() and reads == [] and not reader._producers, "nothing started while the disk is half full"
    budget.give_back(1)
    taker.join(5)
    assert not taker.is_alive() and len(reader._producers) == 4
    slices.close()
    assert_workers_end(pool)


# --- the hand-over between a slice's worker and the emitting thread -------------------------------------------


def test_given_more_chunks_than_memory_holds_when_nobody_takes_them_then_the_rest_wait_on_disk_and_come_back_in_order():
    """Before, the worker reading a slice ahead stopped after two chunks until the CDK reached its slice."""
    handover = Handover(threading.Event())
    chunks = [[{"sid": f"SM{index}"}] for index in range(IN_MEMORY + 20)]
    done = object()
    for chunk in chunks:
        handover.put(chunk)  # none waits: there is room on disk
    handover.put(done)
    assert handover._written > 0, "the chunks beyond memory went to disk"
    taken = [handover.get() for _ in chunks]
    assert taken == chunks and handover.get() is done
    handover.close()


def test_given_memory_and_the_disk_budget_full_when_a_chunk_is_put_then_it_waits_for_the_consumer(monkeypatch):
    monkeypatch.setattr(handover_module, "ON_DISK_BYTES", 0)
    handover = Handover(threading.Event(), DiskBudget())
    for index in range(IN_MEMORY):
        handover.put([index])
    put = threading.Thread(target=handover.put, args=([99],), daemon=True)
    put.start()
    put.join(0.5)
    assert put.is_alive(), "no room: the producer waits"
    assert handover.get() == [0]
    put.join(5)
    assert not put.is_alive()
    assert [handover.get() for _ in range(IN_MEMORY)] == [[1], [99]]
    assert handover._written == 0, "nothing went to disk"


def test_given_slices_sharing_the_disk_budget_when_one_is_closed_then_its_bytes_are_given_back():
    budget = DiskBudget()
    first, second = Handover(threading.Event(), budget), Handover(threading.Event(), budget)
    for handover in (first, second):
        for index in range(IN_MEMORY + 3):
            handover.put([index])
    assert budget._used == first._written + second._written > 0
    first.close()
    assert budget._used == second._written
    second.close()
    assert budget._used == 0


def test_given_a_cancelled_handover_then_put_and_an_empty_get_raise_cancelled_and_the_file_is_gone():
    cancelled = threading.Event()
    handover = Handover(cancelled)
    for index in range(IN_MEMORY + 2):
        handover.put([index])
    cancelled.set()
    handover.close()
    with pytest.raises(workers.Cancelled):
        handover.put([9])
    assert handover._file._file is None
    assert [handover.get() for _ in range(IN_MEMORY)] == [[0], [1]]
    with pytest.raises(workers.Cancelled):
        handover.get()  # on disk, freed


def test_given_a_slice_started_early_when_the_budget_is_spent_then_its_chunks_wait_in_memory_as_any_slices(monkeypatch):
    """A slice started early keeps nothing in memory while the disk takes it; with the budget spent it must not wait
    for room that only the consumer, waiting for it, could free."""
    monkeypatch.setattr(handover_module, "ON_DISK_BYTES", 0)
    handover = Handover(threading.Event(), DiskBudget(), in_memory=0)
    put = threading.Thread(target=lambda: [handover.put([index]) for index in range(IN_MEMORY)], daemon=True)
    put.start()
    put.join(5)
    assert not put.is_alive(), "the producer waits for room on a disk that has none"
    assert [handover.get() for _ in range(IN_MEMORY)] == [[0], [1]]
    assert handover._written == 0


def test_given_slices_started_early_then_they_share_one_file_until_the_cdk_reaches_their_stream():
    reached = threading.Event()
    shared = SpillFile(until=reached)
    first, second = (Handover(threading.Event(), DiskBudget(), in_memory=0, shared=shared) for _ in range(2))
    first.put([1])
    second.put([2])
    assert first._items[0].file is shared and second._items[0].file is shared, "on disk, in the one file"
    assert first._in_memory == second._in_memory == 0
    reached.set()
    first.put([3])
    assert first._items[1].file is first._file, "once reached, the shared file grows no more"
    assert [first.get(), first.get(), second.get()] == [[1], [3], [2]]
    first.close()
    second.close()
    shared.close()
