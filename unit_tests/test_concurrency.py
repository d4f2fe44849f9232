import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from source_twilio import concurrency
from source_twilio.concurrency import AccountLimiter, SlicePipeline, interleave, ordered_map

ACCOUNT = "AC" + "1" * 32


def test_given_429_when_reported_then_the_account_limit_drops_by_a_quarter_once_per_burst():
    limiter = AccountLimiter(ceiling=40)
    for _ in range(10):
        limiter.on_response(ACCOUNT, 429)
    assert limiter.limit(ACCOUNT) == 30
    assert limiter.limit("AC" + "2" * 32) == 40  # other accounts keep theirs
    assert limiter.rate_limited == 10


def test_given_lowered_limit_when_successes_follow_a_calm_period_then_it_grows_back(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(concurrency.time, "monotonic", lambda: clock[0])
    limiter = AccountLimiter(ceiling=4)
    limiter.on_response(ACCOUNT, 429)
    assert limiter.limit(ACCOUNT) == 3
    for _ in range(10):
        limiter.on_response(ACCOUNT, 200)
    assert limiter.limit(ACCOUNT) == 3, "no growth right after a 429"
    clock[0] += concurrency.PROBE_AFTER_SECONDS + 1
    for _ in range(3):
        limiter.on_response(ACCOUNT, 200)
    assert limiter.limit(ACCOUNT) == 4


def test_given_limit_when_many_threads_send_then_never_more_in_flight_than_the_limit():
    limiter = AccountLimiter(ceiling=3)
    in_flight, peak, lock = [0], [0], threading.Lock()

    def request(_):
        with limiter.slot(ACCOUNT):
            with lock:
                in_flight[0] += 1
                peak[0] = max(peak[0], in_flight[0])
            threading.Event().wait(0.005)  # time.sleep is patched out in unit tests
            with lock:
                in_flight[0] -= 1

    with ThreadPoolExecutor(12) as pool:
        list(pool.map(request, range(60)))
    assert peak[0] == 3


def test_given_slow_and_fast_items_when_ordered_map_then_results_keep_input_order():
    with ThreadPoolExecutor(4) as pool:
        results = list(
            ordered_map(pool, lambda n: (threading.Event().wait(0.001 * (10 - n)), n)[1], range(10), ahead=4)
        )
    assert results == list(range(10))


def test_given_pipeline_when_slices_consumed_in_order_then_each_gets_its_own_records():
    with ThreadPoolExecutor(3) as pool:
        pipeline = SlicePipeline(pool, depth=3)
        seen = []
        for slice_number in pipeline.run_ahead(range(7), key=lambda n: n, produce=lambda n: [n] * 600):
            seen.append(list(pipeline.take(slice_number)))
    assert seen == [[n] * 600 for n in range(7)]


def test_given_producer_error_when_taken_then_raised_in_the_consumer():
    def produce(n):
        yield n
        raise ValueError(f"slice {n} failed")

    with ThreadPoolExecutor(2) as pool:
        pipeline = SlicePipeline(pool, depth=2)
        slices = pipeline.run_ahead(range(2), key=lambda n: n, produce=produce)
        first = next(slices)
        with pytest.raises(ValueError, match="slice 0 failed"):
            list(pipeline.take(first))
        slices.close()


def test_given_consumer_stops_early_when_pipeline_closed_then_workers_finish():
    pool = ThreadPoolExecutor(2)
    pipeline = SlicePipeline(pool, depth=2)
    slices = pipeline.run_ahead(range(5), key=lambda n: n, produce=lambda n: iter(range(10**6)))
    next(iter(pipeline.take(next(slices))))
    slices.close()
    pool.shutdown(wait=True, cancel_futures=True)  # returns: no worker is left blocked on a full queue


def test_given_lists_of_different_lengths_when_interleaved_then_round_robin_keeping_each_order():
    assert list(interleave([[1, 2, 3], [], ["a"], [10, 20]])) == [1, "a", 10, 2, 20, 3]
