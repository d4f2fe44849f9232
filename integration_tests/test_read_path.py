"""The read path against a Twilio harsher than the default emulator: each test models one behaviour Twilio has (or
may have) and shows a sync still loses nothing and repeats nothing.

- Records that show up in Twilio's lists after their timestamp, and a machine clock ahead of Twilio's.
- Twilio's day filters returning a whole day, with ``lookback_window: 0``: changed records before the window.
- Upper bounds read as "before" (the Calls spec) rather than "on or before".
- An account that keeps its messages for 30 days, not 400.
- Monitor refusing an alert query that matches more results than its cap.
- 401s: a burst on one subaccount's lists; an active subaccount refused for good; one suspended mid-sync.
- Twilio out of reach for good: the sync ends within its outage bound, with a transient error.
"""

from __future__ import annotations

import itertools
import time as wall
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from integration_tests.connector_runner import (
    Run,
    auth_token_config,
    catalog_for,
    emitted_keys,
    expected_keys,
    run_connector,
)
from integration_tests.emulator import Dataset, DatasetOptions, Faults, serve
from integration_tests.emulator import data as emulator_data
from integration_tests.harness import answering, back_off_recorded, last_states, run_in_process, twilio_error
from source_twilio.definitions import STREAMS
from source_twilio.errors import AUTH_RETRIES

pytestmark = pytest.mark.e2e

INCREMENTAL = [d.name for d in STREAMS if d.incremental]


def twilio_noon() -> datetime:
    """A Twilio clock set to noon UTC, far from midnight, so that "the same day" means the same day every run; the
    latest noon at least 10 minutes before this machine's clock, so that the machine's clock runs ahead of Twilio's."""
    now = datetime.now(timezone.utc)
    noon = now.replace(hour=12, minute=0, second=0, microsecond=0)
    return noon if noon <= now - timedelta(minutes=10) else noon - timedelta(days=1)


# Streams whose records the emulator's mutation stamps at most a few minutes before they appear. Recordings are
# stamped at their call's start, up to 15 minutes earlier: with no lookback, a record listed more than SETTLE after
# its timestamp is out of reach by design (the README says so).
RECENTLY_STAMPED = [s for s in INCREMENTAL if s != "recordings"]


def changed_keys(mutation: dict[str, Any], stream: str, *, new_only: bool = False) -> set[tuple]:
    """What a mutation added and changed; with ``new_only``, what it added (a change to a record whose filtered field
    is older than the previous sync's horizon is out of reach with no lookback: the README says so)."""
    ids = set(mutation["new"].get(stream, [])) | (set() if new_only else set(mutation["changed"].get(stream, [])))
    if stream == "usage_records":  # ids are account/date/category
        return {(account, category, day, day) for account, day, category in (i.split("/") for i in ids)}
    return {(sid,) for sid in ids}


def assert_once(runs: list[Run], stream: str, wanted: set[tuple]) -> None:
    """Across the runs, every wanted key is emitted, and none more than once."""
    emitted = [key for run in runs for key in emitted_keys(run.records.get(stream, []), stream)]
    assert [key for key, count in Counter(emitted).items() if count > 1] == [], f"{stream}: emitted twice"
    assert wanted - set(emitted) == set(), f"{stream}: lost"


# --- late records and a clock ahead of Twilio's ----------------------------------------------------------------


@pytest.mark.parametrize("lookback", [0, 360])
def test_given_records_that_show_up_late_when_the_next_sync_runs_then_each_is_emitted_once(tmp_path, lookback):
    """Written just before sync 2 began, listed only after it: sync 3 must emit them (issue 9, item 5)."""
    dataset = Dataset(DatasetOptions(seed=101, now=twilio_noon()))
    config = auth_token_config(dataset, lookback_window=lookback)
    catalog = catalog_for(INCREMENTAL, "incremental")
    with serve(dataset) as emulator:
        first = run_connector("read", emulator.url, tmp_path, config=config, catalog=catalog)
        mutation = dataset.mutate(visible_after=3600)  # stamped now, listed only once revealed
        second = run_connector("read", emulator.url, tmp_path, config=config, catalog=catalog, state=last_states(first))
        dataset.reveal()
        third = run_connector(
            "read",
            emulator.url,
            tmp_path,
            config=config,
            catalog=catalog,
            state=last_states(second, carried=last_states(first)),
        )
    for run in (first, second, third):
        assert run.returncode == 0 and run.errors == [], run.stderr[-2000:]
    for stream in INCREMENTAL if lookback else RECENTLY_STAMPED:
        wanted = changed_keys(mutation, stream, new_only=not lookback) & expected_keys(dataset, stream)
        assert wanted, f"the mutation touched no {stream}"
        assert_once([second, third], stream, wanted)
        assert set(emitted_keys(third.records.get(stream, []), stream)) <= changed_keys(mutation, stream), stream


def test_given_a_machine_clock_ahead_of_twilio_when_syncing_with_no_lookback_then_nothing_is_lost(tmp_path):
    """Twilio's clock behind this machine's: a cursor stamped by the machine would be ahead of records Twilio
    stamps after the sync (issue 9, item 5)."""
    dataset = Dataset(DatasetOptions(seed=103, now=twilio_noon()))
    config = auth_token_config(dataset, lookback_window=0)
    catalog = catalog_for(INCREMENTAL, "incremental")
    with serve(dataset) as emulator:
        first = run_connector("read", emulator.url, tmp_path, config=config, catalog=catalog)
        mutation = dataset.mutate()
        second = run_connector("read", emulator.url, tmp_path, config=config, catalog=catalog, state=last_states(first))
    assert second.returncode == 0 and second.errors == [], second.stderr[-2000:]
    for stream in RECENTLY_STAMPED:
        wanted = changed_keys(mutation, stream, new_only=True) & expected_keys(dataset, stream)
        assert wanted - set(emitted_keys(second.records.get(stream, []), stream)) == set(), stream


# --- what a day filter returns beyond the window ------------------------------------------------------------------


def test_given_no_lookback_when_calls_change_after_a_sync_then_the_next_sync_emits_them_from_the_day_twilio_returns(
    tmp_path,
):
    """Calls in progress at sync 1 complete afterwards; Twilio's StartTime filter returns their whole day, and the
    changed ones before the window's start must be emitted, once (issue 9, item 6)."""
    sync_change_calls_and_sync_again(tmp_path)


def sync_change_calls_and_sync_again(tmp_path: Any) -> tuple[Dataset, dict[str, Any]]:
    """Seed 107, no lookback: a sync of calls and conferences, the dataset's mutation, a sync from the first one's
    state; the second must emit every changed call, once, and nothing else."""
    dataset = Dataset(DatasetOptions(seed=107, now=twilio_noon()))
    config = auth_token_config(dataset, lookback_window=0)
    catalog = catalog_for(["calls", "conferences"], "incremental")
    with serve(dataset) as emulator:
        first = run_connector("read", emulator.url, tmp_path, config=config, catalog=catalog)
        mutation = dataset.mutate()
        second = run_connector("read", emulator.url, tmp_path, config=config, catalog=catalog, state=last_states(first))
    assert second.returncode == 0 and second.errors == [], second.stderr[-2000:]
    changed = {(sid,) for sid in mutation["changed"]["calls"]}
    assert changed, "the mutation changed no call"
    emitted = emitted_keys(second.records.get("calls", []), "calls")
    assert changed - set(emitted) == set(), "changed calls of the day Twilio returned were dropped"
    assert len(emitted) == len(set(emitted))
    assert set(emitted) <= changed_keys(mutation, "calls")
    return dataset, mutation


class HeldClock:
    """``time`` for the emulator's dataset: the wall clock held at one instant (so Twilio's clock stays in the
    second the dataset is built at), until the first sleep (``Dataset.mutate`` waiting to leave its second)."""

    def __init__(self) -> None:
        self.held: float | None = wall.time()

    def time(self) -> float:
        return wall.time() if self.held is None else self.held

    def sleep(self, seconds: float) -> None:
        self.held = None
        wall.sleep(seconds)

    monotonic = staticmethod(wall.monotonic)


def test_given_no_lookback_when_a_call_changes_in_the_second_sync_1_read_it_then_the_next_sync_emits_it(
    tmp_path, monkeypatch
):
    """What a fast first sync (under a second of Twilio's time) made of the test above, once in 15 to 80 runs
    here: a call that ended at the dataset's ``now`` (date_updated 12:00:00, read and remembered by sync 1) is
    priced by the mutation in that same second. Its date_updated does not move, as Twilio's cannot within a second;
    the next sync must still emit it."""
    monkeypatch.setattr(emulator_data, "time", HeldClock())
    dataset, mutation = sync_change_calls_and_sync_again(tmp_path)
    assert mutation["epoch"] == int(dataset.now.timestamp()), "the mutation was not stamped in the dataset's second"
    same_second = [
        item
        for item in dataset.items("calls")
        if item.record["sid"] in mutation["changed"]["calls"] and item.record["end_time"] == item.record["date_updated"]
    ]
    assert same_second, "no changed call ended in the second of the mutation: the test would prove nothing"


# --- upper bounds read as "before" -----------------------------------------------------------------------------


def test_given_upper_bounds_that_mean_before_when_syncing_then_every_window_is_read_whole(tmp_path):
    """Issue 9 item 7: asking for end minus one second (or that day) loses the last second or day of each window."""
    # More than a page per account: the range is read in windows (a smaller one is probed whole, in one request).
    dataset = Dataset(DatasetOptions(seed=109, calls_per_account=2_500, messages_per_account=2_500))
    with serve(dataset, upper_bounds="exclusive") as emulator:
        run = run_connector(
            "read",
            emulator.url,
            tmp_path,
            config=auth_token_config(dataset),
            catalog=catalog_for(INCREMENTAL, "incremental"),
        )
    assert run.returncode == 0 and run.errors == [], run.stderr[-2000:]
    for stream in INCREMENTAL:
        emitted = emitted_keys(run.records.get(stream, []), stream)
        assert set(emitted) == expected_keys(dataset, stream), stream
        assert len(emitted) == len(set(emitted)), stream


# --- retention set by the customer -----------------------------------------------------------------------------


def test_given_an_account_keeping_messages_30_days_when_syncing_then_it_reads_what_twilio_keeps_and_says_so(tmp_path):
    """Issue 9 item 3: a fixed 400-day floor gets 20004 on every older window; the connector learns the setting.
    A first sync reads the unfiltered list, which holds only what Twilio keeps; windows that reach back past it are
    those of a sync resuming from an old cursor (a connection paused for months)."""
    dataset = Dataset(DatasetOptions(seed=113, message_retention_days=30))
    catalog = catalog_for(["messages", "message_media"], "incremental")
    with serve(dataset) as emulator:
        first = run_connector("read", emulator.url, tmp_path, config=auth_token_config(dataset), catalog=catalog)
        assert first.returncode == 0 and first.errors == [], first.stdout[-3000:]
        for stream in ("messages", "message_media"):
            assert set(emitted_keys(first.records.get(stream, []), stream)) == expected_keys(dataset, stream), stream
        paused = [months_old(state) for state in last_states(first)]
        emulator.reset_stats()
        run = run_connector(
            "read", emulator.url, tmp_path, config=auth_token_config(dataset), catalog=catalog, state=paused
        )
        requests = emulator.stats()["by_endpoint"].get("messages", 0)
    assert run.returncode == 0 and run.errors == [], run.stdout[-3000:]
    emitted = emitted_keys(run.records.get("messages", []), "messages")
    assert set(emitted) <= expected_keys(dataset, "messages") and len(emitted) == len(set(emitted))
    assert any("keeps 30 days" in log for log in run.logs), [log for log in run.logs if "keeps" in log]
    assert requests < 60, f"{requests} requests to Messages.json: the retention is learned once per account"


def months_old(state: dict[str, Any]) -> dict[str, Any]:
    """The STATE message of a sync that ran 200 days ago: its cursors that far back, nothing remembered."""
    stream = state["stream"]
    cursors = stream["stream_state"]["cursors"]
    old = (datetime.now(timezone.utc) - timedelta(days=200)).strftime("%Y-%m-%dT%H:%M:%SZ")
    stream_state = {**stream["stream_state"], "cursors": dict.fromkeys(cursors, old), "seen": {}}
    return {"type": "STREAM", "stream": {**stream, "stream_state": stream_state}}


# --- Monitor's result cap ----------------------------------------------------------------------------------------


def test_given_more_alerts_in_a_window_than_monitor_serves_when_syncing_then_the_window_is_split_and_nothing_lost(
    tmp_path,
):
    """Issue 9 item 4: a window Monitor refuses would hold the cursor until its alerts expire."""
    dataset = Dataset(DatasetOptions(seed=127, alerts=600))
    with serve(dataset, alert_result_limit=40) as emulator:
        run = run_connector(
            "read",
            emulator.url,
            tmp_path,
            config=auth_token_config(dataset),
            catalog=catalog_for(["alerts"], "incremental"),
        )
        refused = emulator.stats()["by_status"].get("400", 0)
    assert refused > 0, "Monitor never refused: the test would prove nothing"
    assert run.returncode == 0 and run.errors == [], run.stdout[-3000:]
    emitted = emitted_keys(run.records.get("alerts", []), "alerts")
    assert set(emitted) == expected_keys(dataset, "alerts") and len(emitted) == len(set(emitted))


# --- 401s ----------------------------------------------------------------------------------------------------------


def read_in_process(emulator: Any, workdir: Any, streams: list[str]) -> Run:
    """An incremental read of ``streams`` with the Auth Token, back-off not slept."""
    config, catalog = auth_token_config(emulator.dataset), catalog_for(streams, "incremental")
    return run_in_process("read", emulator.url, workdir, config=config, catalog=catalog)


def active_subaccount(dataset: Dataset) -> str:
    credentials = dataset.credentials
    return next(s for s in credentials["subaccount_sids"] if s not in credentials["suspended_subaccount_sids"])


def test_given_a_burst_of_401s_on_one_subaccount_when_syncing_then_it_is_retried_and_read_in_full(tmp_path):
    """Issue 9 item 8: three 401s in a row used to skip the account for the whole sync, with exit 0."""
    dataset = Dataset(DatasetOptions(seed=131))
    subaccount = active_subaccount(dataset)
    burst = itertools.count()

    def in_the_burst(request) -> bool:
        return f"/Accounts/{subaccount}/Messages.json" in request.path and next(burst) < AUTH_RETRIES

    with (
        back_off_recorded(),
        serve(dataset) as emulator,
        answering(emulator, in_the_burst, 401, twilio_error(401, 20003, "Authenticate")),
    ):
        run = read_in_process(emulator, tmp_path, ["messages"])
    assert run.returncode == 0 and run.errors == [], run.errors
    assert set(emitted_keys(run.records["messages"], "messages")) == expected_keys(dataset, "messages")


def test_given_an_active_subaccount_refused_for_good_when_syncing_then_the_sync_ends_incomplete_naming_it(tmp_path):
    dataset = Dataset(DatasetOptions(seed=137))
    subaccount = active_subaccount(dataset)
    refused = twilio_error(401, 20003, "Authenticate")
    with (
        back_off_recorded(),
        serve(dataset) as emulator,
        answering(emulator, lambda r: f"/Accounts/{subaccount}/Calls.json" in r.path, 401, refused),
    ):
        run = read_in_process(emulator, tmp_path, ["calls", "queues"])
    assert run.returncode != 0
    (error,) = [e for e in run.errors if e.get("stream_descriptor", {}).get("name") == "calls"]
    assert (
        subaccount in error["message"] and "active" in error["message"] and error["failure_type"] == "transient_error"
    )
    assert set(emitted_keys(run.records["queues"], "queues")) == expected_keys(dataset, "queues")
    main_calls = {
        k
        for k in expected_keys(dataset, "calls")
        if k[0] in {i.record["sid"] for i in dataset.items("calls") if i.account_sid != subaccount}
    }
    assert set(emitted_keys(run.records["calls"], "calls")) == main_calls


def test_given_a_subaccount_suspended_mid_sync_when_syncing_then_it_is_skipped_with_a_warning_and_the_sync_succeeds(
    tmp_path,
):
    dataset = Dataset(DatasetOptions(seed=139))
    subaccount = active_subaccount(dataset)

    def suspend_on_first_call_request(request) -> bool:
        if f"/Accounts/{subaccount}/Calls.json" in request.path and dataset.account(subaccount)["status"] == "active":
            dataset.set_account_status(subaccount, "suspended")
        return False  # the emulator answers: 401 for a suspended account's resources

    with back_off_recorded(), serve(dataset) as emulator, answering(emulator, suspend_on_first_call_request, 200, {}):
        run = read_in_process(emulator, tmp_path, ["calls"])
    assert run.returncode == 0 and run.errors == [], run.errors
    assert any(subaccount in log and "Skipping subaccount" in log and "suspended" in log for log in run.logs)
    cursors = run.final_states[0]["stream"]["stream_state"]["cursors"]
    assert subaccount not in cursors, "a skipped account's cursor does not move"


# --- Twilio out of reach -------------------------------------------------------------------------------------------


def test_given_twilio_failing_every_request_when_syncing_then_the_sync_stops_within_its_outage_bound(tmp_path):
    """Issue 9 item 13: each list used to retry for minutes, one after another, for hours. Twilio still lists the
    accounts (a sync whose list of accounts fails ends on that alone: ``test_account_listing``)."""
    dataset = Dataset(DatasetOptions(seed=149))
    config = auth_token_config(dataset)
    with back_off_recorded(time_passes=True) as slept, serve(dataset) as emulator:
        emulator.faults = Faults(persistent_failure_path=r"^/(2010-04-01|v1)/(?!Accounts(/AC[0-9a-f]{32})?\.json$)")
        run = run_in_process(
            "read", emulator.url, tmp_path, config=config, catalog=catalog_for(INCREMENTAL, "incremental")
        )
        requests = emulator.stats()["total_requests"]
    assert run.returncode != 0
    assert run.errors, "the sync must say why it stopped"
    assert run.errors[-1]["failure_type"] == "transient_error", run.errors[-1]
    assert any("has not answered for 5 minutes" in error["message"] for error in run.errors)
    assert sum(slept) < 20 * 60, f"{sum(slept):.0f} s of back-off before giving up"
    assert requests < 100, requests
