"""Reading ahead of the CDK: a slice read ahead does not wait for the ones before it to be emitted (``handover``),
and the next streams start while the CDK emits the current one (``prefetch``); the records are the same, and no
sync is left waiting on a thread.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from urllib.parse import urlencode

import pytest

from integration_tests.connector_runner import (
    auth_token_config,
    catalog_for,
    emitted_keys,
    expected_keys,
    run_connector,
)
from integration_tests.emulator import Dataset, DatasetOptions, serve
from integration_tests.emulator.api import ApiRequest, ApiResponse
from integration_tests.emulator.server import Emulator
from source_twilio.definitions import STREAMS

pytestmark = pytest.mark.e2e

HOLD_SECONDS = 30.0  # only if the awaited request never comes: the test then fails, it does not hang


@contextlib.contextmanager
def holding(
    emulator: Emulator, held: Callable[[ApiRequest], bool], awaited: Callable[[ApiRequest], bool]
) -> Iterator[list[str]]:
    """The emulator holds its answers to ``held`` requests until an ``awaited`` request has arrived (at most
    ``HOLD_SECONDS``); yields the order of events: "awaited" for each awaited request, "answered" for each held one."""
    api = emulator._server.api
    original = api.handle
    arrived = threading.Event()
    events: list[str] = []

    def handle(request: ApiRequest) -> ApiResponse:
        if awaited(request):
            events.append("awaited")
            arrived.set()
        elif held(request):
            if not arrived.wait(HOLD_SECONDS):
                arrived.set()  # waited in vain: the others are not held
            response = original(request)
            events.append("answered")
            return response
        return original(request)

    api.handle = handle  # type: ignore[method-assign]
    try:
        yield events
    finally:
        arrived.set()
        api.handle = original  # type: ignore[method-assign]


def test_given_a_stream_whose_pages_are_slow_when_syncing_then_the_next_stream_is_asked_for_meanwhile(tmp_path):
    """Before, the CDK's order made ``queues`` wait for the last page of ``calls``: a catalog of small streams cost a
    round trip per stream, one after another."""
    dataset = Dataset(DatasetOptions(seed=41, subaccounts=1, suspended_subaccounts=0, calls_per_account=300))
    config = auth_token_config(dataset)
    with (
        serve(dataset) as emulator,
        holding(
            emulator, held=lambda r: r.path.endswith("/Calls.json"), awaited=lambda r: r.path.endswith("/Queues.json")
        ) as events,
    ):
        run = run_connector("read", emulator.url, tmp_path, config=config, catalog=catalog_for(["calls", "queues"]))
    assert run.returncode == 0, run.stderr[-2000:]
    assert "awaited" in events and "answered" in events, events
    assert events.index("awaited") < len(events) - events[::-1].index("answered") - 1, events
    for stream in ("calls", "queues"):
        assert sorted(emitted_keys(run.records[stream], stream)) == sorted(expected_keys(dataset, stream)), stream


def test_given_a_stream_started_early_when_the_one_before_is_slow_then_it_reads_its_windows_meanwhile(tmp_path):
    """A stream started early read only its first few slices until the CDK reached it: its sweep lists and probes,
    not the windows planned once a probe found its range too long. Its requests came after the stream before it."""
    dataset = Dataset(
        DatasetOptions(
            seed=44, subaccounts=0, suspended_subaccounts=0, messages_per_account=20, calls_per_account=1_100
        )
    )
    windows: list[str] = []

    def many_windows_asked(request: ApiRequest) -> bool:
        start = dict(request.query).get("StartTime>") if request.path.endswith("/Calls.json") else None
        if start is not None:
            windows.append(start)
        return len(windows) >= 10  # the probe, and windows well beyond the first slices (of about 37)

    with (
        serve(dataset) as emulator,
        holding(emulator, held=lambda r: r.path.endswith("/Messages.json"), awaited=many_windows_asked) as events,
    ):
        run = run_connector(
            "read",
            emulator.url,
            tmp_path,
            config=auth_token_config(dataset),
            catalog=catalog_for(["messages", "calls"]),
        )
    assert run.returncode == 0, run.stderr[-2000:]
    assert events[0] == "awaited" and "answered" in events, events
    for stream in ("messages", "calls"):
        assert sorted(emitted_keys(run.records[stream], stream)) == sorted(expected_keys(dataset, stream)), stream


def test_given_accounts_read_in_one_pass_when_the_first_is_slow_then_the_others_read_on_meanwhile(tmp_path):
    """A first sync reads each account's messages in one pass, one slice per account. Before, a subaccount's slice
    read ahead stopped after two chunks of its first page until the CDK had emitted the main account's."""
    dataset = Dataset(
        DatasetOptions(
            seed=43, subaccounts=1, suspended_subaccounts=0, messages_per_account=2_500, calls_per_account=10
        )
    )
    main = dataset.main_account_sid

    def later_page_of_a_subaccount(request: ApiRequest) -> bool:
        return (
            request.path.endswith("/Messages.json") and main not in request.path and "Page=" in urlencode(request.query)
        )

    with (
        serve(dataset) as emulator,
        holding(
            emulator, held=lambda r: f"{main}/Messages.json" in r.path, awaited=later_page_of_a_subaccount
        ) as events,
    ):
        run = run_connector(
            "read", emulator.url, tmp_path, config=auth_token_config(dataset), catalog=catalog_for(["messages"])
        )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "awaited" in events and "answered" in events, events
    assert events.index("awaited") < len(events) - events[::-1].index("answered") - 1, events
    assert sorted(emitted_keys(run.records["messages"], "messages")) == sorted(expected_keys(dataset, "messages"))


def test_given_every_stream_and_one_worker_when_syncing_then_the_sync_ends_with_every_record(tmp_path):
    """Streams started early hold threads while they wait for the CDK: with the fewest workers, the stream being
    emitted must still get its own."""
    dataset = Dataset(DatasetOptions(seed=42, subaccounts=2, suspended_subaccounts=0))
    config = auth_token_config(dataset, num_workers=1)
    names = [definition.name for definition in STREAMS]
    with serve(dataset) as emulator:
        run = run_connector("read", emulator.url, tmp_path, config=config, catalog=catalog_for(names), timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    for stream in ("calls", "messages", "message_media", "usage_records", "alerts"):
        assert sorted(emitted_keys(run.records[stream], stream)) == sorted(expected_keys(dataset, stream)), stream
