"""The streams after the one the CDK emits start early, and stop when the sync ends before the CDK reaches them."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import Any

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder

from source_twilio import prefetch
from source_twilio.prefetch import Prefetcher


class FakeStream:
    def __init__(self, name: str) -> None:
        self.name = name
        self.started_with: Mapping[str, Any] | None = None
        self.closed = threading.Event()

    def start_early(self, configured: Any, state: Mapping[str, Any], reached: threading.Event) -> Iterator[str]:
        self.started_with = state

        def slices() -> Iterator[str]:
            try:
                yield from (f"{self.name} 1", f"{self.name} 2")
            finally:
                self.closed.set()

        return slices()


def prefetcher_of(*names: str) -> tuple[Prefetcher, dict[str, FakeStream]]:
    builder = CatalogBuilder()
    for name in names:
        builder.with_stream(name, SyncMode.full_refresh)
    streams = {name: FakeStream(name) for name in names}
    return Prefetcher(builder.build().streams, streams, lambda name: {"of": name}), streams


def finished(found: Prefetcher) -> None:
    """Every stream started early has begun (the workers have run every start submitted)."""
    found.close()
    assert found._pool.join(5)


def test_given_a_stream_reached_then_the_next_ones_start_with_their_state_and_hand_over_their_slices():
    found, streams = prefetcher_of("calls", "queues", "keys", "alerts", "addresses", "usage_records")
    assert found.reached("calls") is None, "the first stream was not started early"
    slices = found.reached("queues")
    assert slices is not None and list(slices) == ["queues 1", "queues 2"]
    assert streams["queues"].started_with == {"of": "queues"}
    finished(found)
    assert prefetch.AHEAD == 3, "the streams below are the three after queues"
    assert streams["addresses"].started_with is not None and streams["usage_records"].started_with is None


def test_given_a_child_whose_parent_is_selected_then_it_starts_only_once_the_parent_is_emitted():
    found, streams = prefetcher_of("messages", "message_media", "queues")
    found.reached("messages")
    finished(found)
    assert streams["message_media"].started_with is None
    assert streams["queues"].started_with is not None


def test_given_the_sync_ends_before_the_cdk_reaches_a_started_stream_then_its_slices_are_closed():
    found, streams = prefetcher_of("calls", "queues")
    found.reached("calls")
    found.close()
    assert streams["queues"].closed.wait(5)
