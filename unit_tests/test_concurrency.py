import threading
from concurrent.futures import ThreadPoolExecutor

from source_twilio import concurrency
from source_twilio.concurrency import AccountLimiter
from source_twilio.planning import interleave
from source_twilio.reader import NOT_YET
from source_twilio.workers import WorkerPool, ordered_map

ACCOUNT = "AC" + "1" * 32


def test_given_429_when_reported_then_the_account_limit_drops_by_a_quarter_once_per_burst():
    limiter = AccountLimiter(ceiling=40)
    for _ in range(10):
        limiter.on_response(ACCOUNT, 429)
    assert limiter.limit(ACCOUNT) == 30
    other = "AC" + "2" * 32
    limiter.on_response(other, 200)
    assert limiter.limit(other) == 40  # other accounts keep theirs
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
    limiter.on_response(ACCOUNT, 200)
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
    pool = WorkerPool(4, "test")
    results = list(ordered_map(pool, lambda n: (threading.Event().wait(0.001 * (10 - n)), n)[1], range(10), ahead=4))
    pool.close()
    assert results == list(range(10))


def test_given_lists_of_different_lengths_when_interleaved_then_round_robin_keeping_each_order():
    assert list(interleave([[1, 2, 3], [], ["a"], [10, 20]], width=10)) == [1, "a", 10, 2, 20, 3]


def test_given_many_lists_when_interleaved_then_only_width_of_them_are_open_at_once_and_each_keeps_its_order():
    opened = []

    def lists():
        for n in range(100):
            opened.append(n)
            yield [(n, i) for i in range(3)]

    taken = interleave(lists(), width=4)
    first = [next(taken) for _ in range(4)]
    assert first == [(0, 0), (1, 0), (2, 0), (3, 0)] and len(opened) == 4
    rest = first + list(taken)
    assert len(rest) == 300 and len(opened) == 100
    for n in range(100):
        assert [item for item in rest if item[0] == n] == [(n, 0), (n, 1), (n, 2)]


def test_given_an_account_not_yet_answered_then_one_request_at_a_time_until_twilio_says_how_busy_it_is():
    limiter = AccountLimiter(ceiling=10)
    assert limiter.limit(ACCOUNT) == 1
    limiter.on_concurrency(ACCOUNT, reported=1, ours=1)
    assert limiter.limit(ACCOUNT) == 10


def test_given_the_customers_own_requests_in_flight_then_the_sync_gives_up_a_slot_for_each_down_to_one():
    """Twilio-Concurrent-Requests counts every request of the account: those beyond the sync's are the customer's."""
    limiter = AccountLimiter(ceiling=10)
    limiter.on_concurrency(ACCOUNT, reported=7, ours=3)
    assert limiter.limit(ACCOUNT) == 6
    limiter.on_concurrency(ACCOUNT, reported=40, ours=2)
    assert limiter.limit(ACCOUNT) == 1
    limiter.on_concurrency(ACCOUNT, reported=2, ours=2)
    assert limiter.limit(ACCOUNT) == 10


def test_given_a_list_not_ready_when_interleaved_then_the_others_go_on_and_not_yet_comes_only_when_none_is_ready():
    ready = threading.Event()

    def waits_for_an_answer():
        yield "probe"
        while not ready.is_set():
            yield NOT_YET
        yield "window"

    taken = interleave([waits_for_an_answer(), iter([1, 2, 3])], width=4)
    assert [next(taken) for _ in range(4)] == ["probe", 1, 2, 3]
    assert next(taken) is NOT_YET
    ready.set()
    assert list(taken) == ["window"]
