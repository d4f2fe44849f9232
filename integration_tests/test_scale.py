"""Scale: an incremental sync costs what changed, not the account's history, and its STATE messages stay a small
share of its output however many accounts there are (issue 10). Counts of requests, bytes and state builds, not
time: these tests are fast and exact.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
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
from integration_tests.emulator import Dataset, DatasetOptions, serve
from integration_tests.harness import last_states, run_in_process
from source_twilio import reader as reader_module
from source_twilio import state as state_module
from source_twilio.emission import SETTLE
from source_twilio.planning import SWEEP_REACH

pytestmark = pytest.mark.e2e

SWEPT = ["messages", "message_media", "calls"]  # the streams whose lists have records with a null filtered field


def second_sync_requests(tmp_path: Any, messages: int, calls: int) -> dict[str, Any]:
    """Requests of an incremental sync that follows another with nothing changed in between, and the unsent messages
    with media it should look at (the sweep's: those listed within a day and the lookback of the first sync)."""
    dataset = Dataset(
        DatasetOptions(
            seed=151, subaccounts=2, suspended_subaccounts=0, messages_per_account=messages, calls_per_account=calls
        )
    )
    config, catalog = auth_token_config(dataset), catalog_for(SWEPT, "incremental")
    tmp_path.mkdir()
    with serve(dataset) as emulator:
        first = run_connector("read", emulator.url, tmp_path, config=config, catalog=catalog)
        emulator.reset_stats()
        second = run_connector("read", emulator.url, tmp_path, config=config, catalog=catalog, state=last_states(first))
        stats = emulator.stats()
    assert first.returncode == 0 and second.returncode == 0, second.stderr[-2000:]
    assert second.records == {}, "nothing changed: nothing to emit"
    horizon = datetime.fromtimestamp(dataset.clock(), timezone.utc) - SETTLE - timedelta(minutes=2)
    reach = horizon - timedelta(minutes=360) - SWEEP_REACH
    recent_with_media = [
        record
        for record in (item.record for item in dataset.items("messages"))
        if record["num_media"] != "0"
        and (
            parsedate_to_datetime(record["date_created"]) >= reach
            if record["date_sent"] is None
            else parsedate_to_datetime(record["date_sent"]) >= horizon
        )
    ]
    return {"total": stats["total_requests"], **stats["by_endpoint"], "recent_with_media": len(recent_with_media)}


def test_given_five_times_the_history_when_nothing_changed_then_an_incremental_sync_reads_the_same_pages(tmp_path):
    """The sweep of unsent messages and undialed calls used to read each whole list again, twice for messages. Now
    it reads their first page. The messages it reads again (unsent ones of the last day or so, the sweep's reach,
    and those sent in the minutes before the first sync, after its horizon) are unchanged: their media, all read
    by the first sync at the same version of the message, are not asked for again (the more history, the more
    such messages: they made the second sync's requests grow with it)."""
    small = second_sync_requests(tmp_path / "small", messages=2_000, calls=1_000)
    large = second_sync_requests(tmp_path / "large", messages=10_000, calls=5_000)
    print(f"second sync requests, 1x: {small}; 5x: {large}")
    for endpoint in ("messages", "calls", "accounts"):
        assert small[endpoint] == large[endpoint], endpoint
    accounts = 3
    assert small["messages"] <= 10 * accounts
    assert small["calls"] <= 10 * accounts
    for sync in (small, large):
        assert sync["recent_with_media"] > 0, "no message the sync reads again has media: this would prove nothing"
        assert sync.get("media", 0) == 0, "media asked for again of messages unchanged since the first sync"


@pytest.mark.parametrize("children_first", [False, True], ids=["parents-first", "children-first"])
@pytest.mark.parametrize("parent,child", [("messages", "message_media"), ("conferences", "conference_participants")])
def test_given_a_child_stream_and_its_parent_when_syncing_then_each_parent_page_is_read_once(
    tmp_path, parent, child, children_first
):
    """message_media used to read every messages list again (the whole history, on a first sync). Whatever the order
    of the catalog (discover lists message_media before messages), the parent's pages are read once, and both
    streams are exact."""
    dataset = Dataset(DatasetOptions(seed=173, messages_per_account=2_500, conferences_per_account=40))
    config = auth_token_config(dataset)
    endpoint = {"messages": "messages", "conferences": "conferences"}[parent]
    requests: dict[str, int] = {}
    with serve(dataset) as emulator:
        for streams in ([parent], [child, parent] if children_first else [parent, child]):
            emulator.reset_stats()
            run = run_connector("read", emulator.url, tmp_path, config=config, catalog=catalog_for(streams))
            assert run.returncode == 0 and run.errors == [], run.stderr[-2000:]
            for stream in streams:
                assert set(emitted_keys(run.records[stream], stream)) == expected_keys(dataset, stream), stream
            requests[child if child in streams else parent] = emulator.stats()["by_endpoint"][endpoint]
    assert requests[child] == requests[parent], (
        f"{endpoint} read {requests[child]} times with {child}, not {requests[parent]}"
    )


@pytest.mark.parametrize("sync_mode", ["full_refresh", "incremental"])
def test_given_a_first_sync_of_messages_then_each_page_of_the_list_is_read_once(tmp_path, sync_mode):
    """Messages with no date_sent (queued, scheduled, canceled) are found only in the unfiltered list, which a first
    sync reads back to its start: that one pass emits every message, and no DateSent window reads them again (the
    windows used to read the whole history a second time)."""
    dataset = Dataset(DatasetOptions(seed=181, messages_per_account=2_500, calls_per_account=10))
    config = auth_token_config(dataset)
    with serve(dataset) as emulator:
        run = run_connector("read", emulator.url, tmp_path, config=config, catalog=catalog_for(["messages"], sync_mode))
        requests = emulator.stats()["by_endpoint"]["messages"]
    assert run.returncode == 0 and run.errors == [], run.stderr[-2000:]
    emitted = emitted_keys(run.records["messages"], "messages")
    assert set(emitted) == expected_keys(dataset, "messages") and len(emitted) == len(set(emitted))
    per_account: dict[str, int] = {}
    for record in run.records["messages"]:
        per_account[record["account_sid"]] = per_account.get(record["account_sid"], 0) + 1
    pages = sum(-(-count // 1000) for count in per_account.values())
    assert requests == pages, f"{requests} requests for {pages} pages of messages"
    if sync_mode == "incremental":  # the pass moved each account's cursor as the windows would have
        state = last_states(run)[0]["stream"]["stream_state"]
        assert set(state["cursors"]) == set(per_account)


def test_given_many_small_accounts_when_syncing_then_state_messages_weigh_at_most_a_tenth_of_the_records(tmp_path):
    dataset = Dataset(
        DatasetOptions(
            seed=157,
            subaccounts=60,
            suspended_subaccounts=0,
            messages_per_account=8,
            calls_per_account=6,
            usage_history_days=20,
            alerts=10,
        )
    )
    config, catalog = auth_token_config(dataset), catalog_for(["messages", "calls", "usage_records"], "incremental")
    with serve(dataset) as emulator:
        run = run_connector("read", emulator.url, tmp_path, config=config, catalog=catalog)
        requests = emulator.stats()["total_requests"]
    assert run.returncode == 0 and run.errors == [], run.stderr[-2000:]
    # A small account's whole range in one request (a probe) rather than one per 30-day window: messages (sweep,
    # range), calls (three sweeps, range), usage (range).
    assert requests <= 61 * 7 + 5, f"{requests} requests for 61 small accounts"
    for stream in ("messages", "calls", "usage_records"):
        assert set(emitted_keys(run.records[stream], stream)) == expected_keys(dataset, stream), stream
    records, states = output_bytes(run, "RECORD"), output_bytes(run, "STATE")
    print(f"61 accounts: {records:,} bytes of records, {states:,} of state in {len(run.of_type('STATE'))} messages")
    assert states <= 0.1 * records
    final = {s["stream"]["stream_descriptor"]["name"]: s for s in run.final_states}
    assert len(final["messages"]["stream"]["stream_state"]["cursors"]) == 61, "every account's cursor is saved"


def slices_started(monkeypatch: Any) -> list[Any]:
    """The slice plans the reader starts, in order, recorded as the sync runs."""
    started: list[Any] = []
    original = reader_module.SliceReader._start
    monkeypatch.setattr(
        reader_module.SliceReader,
        "_start",
        lambda self, plan, *rest: started.append(plan) or original(self, plan, *rest),
    )
    return started


def read_in_process(emulator: Any, tmp_path: Any, streams: list[str]) -> Run:
    """An incremental first sync of ``streams``, in this process."""
    config, catalog = auth_token_config(emulator.dataset), catalog_for(streams, "incremental")
    return run_in_process("read", emulator.url, tmp_path, config=config, catalog=catalog)


def test_given_many_small_accounts_when_their_probes_cover_them_then_their_windows_are_never_slices(
    tmp_path, monkeypatch
):
    """A probed account's windows used to be slices that waited on the probe and then read nothing: with a thousand
    small accounts, most of the read-ahead held such slices, and about four requests were in flight out of ten."""
    started = slices_started(monkeypatch)
    dataset = Dataset(DatasetOptions(seed=179, subaccounts=30, suspended_subaccounts=0, messages_per_account=4))
    with serve(dataset) as emulator:
        run = read_in_process(emulator, tmp_path, ["messages", "calls"])
    assert run.returncode == 0, run.errors
    for stream in ("messages", "calls"):
        assert set(emitted_keys(run.records[stream], stream)) == expected_keys(dataset, stream), stream
    # The account list, then per account: one pass of the list for messages, three sweeps and a probe for calls.
    assert len(started) == 1 + 31 * (1 + 4)
    final = {s["stream"]["stream_descriptor"]["name"]: s["stream"]["stream_state"] for s in run.final_states}
    assert len(set(final["messages"]["cursors"].values())) == 1, "every account's cursor at the sync's horizon"


def output_bytes(run: Run, kind: str) -> int:
    return sum(len(line) + 1 for line in run.stdout.splitlines() if f'"type":"{kind}"' in line[:20])


def test_given_a_sync_of_many_records_when_the_cdk_asks_for_the_state_then_it_is_built_once_per_change(
    tmp_path, monkeypatch
):
    """The CDK used to ask for the stream's state after every record; building it is linear in the accounts."""
    builds = []
    original = state_module.StreamState._build_json
    monkeypatch.setattr(state_module.StreamState, "_build_json", lambda self: builds.append(1) or original(self))
    dataset = Dataset(DatasetOptions(seed=163, messages_per_account=3_000))
    with serve(dataset) as emulator:
        run = run_in_process(
            "read",
            emulator.url,
            tmp_path,
            config=auth_token_config(dataset),
            catalog=catalog_for(["messages"], "incremental"),
        )
    assert run.returncode == 0, run.errors
    records = len(run.records["messages"])
    assert records > 3_000
    assert len(builds) < records / 50, f"{len(builds)} state builds for {records} records: one per slice at most"
    assert run.final_states[0]["stream"]["stream_state"]["cursors"]  # and the state still comes out


def sync_with_traffic(tmp_path: Any, **emulation: Any) -> tuple[Run, Dataset, dict[str, Any]]:
    """A full sync of messages and calls (more than a page per account: read in windows, in parallel)."""
    dataset = Dataset(DatasetOptions(seed=167, messages_per_account=1_500))
    with serve(dataset, latency_ms=30, **emulation) as emulator:
        config, catalog = auth_token_config(dataset), catalog_for(["messages", "calls"])
        run = run_connector("read", emulator.url, tmp_path, config=config, catalog=catalog)
        stats = emulator.stats()
    assert run.returncode == 0 and run.errors == [], run.stderr[-2000:]
    for stream in ("messages", "calls"):
        assert set(emitted_keys(run.records[stream], stream)) == expected_keys(dataset, stream)
    return run, dataset, stats


def test_given_an_account_busy_with_the_customers_own_traffic_when_syncing_then_the_sync_leaves_it_room(tmp_path):
    """Twilio's limit is shared with the customer's applications: 8 of their requests are always in flight, the
    limit is 12. A sync taking its default 10 would push the account past it (their requests would get 429s too);
    reading Twilio-Concurrent-Requests, it takes what is left."""
    _, _, stats = sync_with_traffic(tmp_path, concurrency_limit=12, background_concurrency=8)
    assert stats["status_429"] == 0, "the account was pushed past its limit"
    assert max(stats["max_in_flight_by_account"].values()) <= 4


def test_given_an_idle_account_when_syncing_then_at_most_the_per_account_share_is_in_flight(tmp_path):
    _, _, stats = sync_with_traffic(tmp_path)
    assert 3 <= max(stats["max_in_flight_by_account"].values()) <= 10  # max_requests_per_account's default


def test_given_a_first_sync_of_messages_and_media_then_each_accounts_media_are_fetched_in_parts(tmp_path, monkeypatch):
    """A first sync reads an account's messages in one pass, one slice: its media were then one slice too, fetched in
    order while every other account's media waited behind it (the standard bench took 182 s instead of 79 s). They are
    fetched in parts, one per chunk of the parents kept, which the read-ahead spreads over the accounts."""
    started = slices_started(monkeypatch)
    dataset = Dataset(DatasetOptions(seed=191, messages_per_account=3_000, calls_per_account=10))
    with serve(dataset) as emulator:
        run = read_in_process(emulator, tmp_path, ["messages", "message_media"])
        requests = emulator.stats()["by_endpoint"]["messages"]
    assert run.returncode == 0 and run.errors == [], run.stderr[-2000:]
    for stream in ("messages", "message_media"):
        emitted = emitted_keys(run.records[stream], stream)
        assert set(emitted) == expected_keys(dataset, stream) and len(emitted) == len(set(emitted)), stream
    parts = Counter(plan.account_sid for plan in started if plan.part is not None)
    assert len(parts) == 2 and min(parts.values()) >= 2, f"each account's media in several parts: {parts}"
    assert requests == sum(
        -(-count // 1000) for count in Counter(r["account_sid"] for r in run.records["messages"]).values()
    )
    final = {s["stream"]["stream_descriptor"]["name"]: s["stream"]["stream_state"] for s in run.final_states}
    assert set(final["message_media"]["cursors"]) == set(final["messages"]["cursors"]), "the last part moved the cursor"
