"""A parent's list read once per sync: the catalog's order, and what is kept for whom."""

from __future__ import annotations

import pytest
from airbyte_cdk.models import ConfiguredAirbyteCatalogSerializer

from source_twilio.sharing import SharedLists, TooLong, parents_first


def catalog(*names: str):
    return ConfiguredAirbyteCatalogSerializer.load(
        {
            "streams": [
                {
                    "stream": {"name": name, "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
                    "sync_mode": "full_refresh",
                    "destination_sync_mode": "overwrite",
                }
                for name in names
            ]
        }
    )


def test_given_children_before_their_parents_when_ordered_then_each_follows_its_parent_and_the_rest_keep_order():
    ordered = parents_first(catalog("message_media", "calls", "conference_participants", "messages", "conferences"))
    assert [c.stream.name for c in ordered.streams] == [
        "calls",
        "messages",
        "message_media",
        "conferences",
        "conference_participants",
    ]


def test_given_a_child_without_its_parent_when_ordered_then_nothing_moves():
    ordered = parents_first(catalog("message_media", "calls"))
    assert [c.stream.name for c in ordered.streams] == ["message_media", "calls"]


def message(sid: str, num_media: str) -> dict:
    return {"sid": sid, "num_media": num_media, "date_sent": "2026-01-01T00:00:00Z"}


def test_given_a_slice_read_to_its_end_when_the_child_asks_then_it_gets_the_parents_with_children_once():
    shared = SharedLists(["messages", "message_media"])
    keeper = shared.keeper("messages", "r1", {})
    assert keeper is not None
    for index in range(1_200):  # more than a chunk
        keeper.add(message(f"MM{index}", "1" if index % 3 else "0"))
    assert shared.take("messages", "r1") is None, "nothing is there before the slice is read whole"
    keeper.finish()
    assert [record["sid"] for record in shared.take("messages", "r1")] == [
        f"MM{index}" for index in range(1_200) if index % 3
    ]
    assert shared.take("messages", "r1") is None, "taken by the one child that wanted it"
    assert shared.take("messages", "another request") is None
    shared.close()


def test_given_a_probe_that_did_not_fit_when_the_child_asks_then_it_learns_so_without_a_request():
    shared = SharedLists(["messages", "message_media"])
    shared.keeper("messages", "probe", {}).too_long()
    with pytest.raises(TooLong):
        shared.take("messages", "probe")


def test_given_no_child_selected_or_a_partition_no_child_reads_then_nothing_is_kept():
    assert SharedLists(["messages"]).keeper("messages", "r", {}) is None
    conferences = SharedLists(["conferences", "conference_participants"])
    assert conferences.keeper("conferences", "r", {"Status": "completed"}) is None
    assert conferences.keeper("conferences", "r", {"Status": "in-progress"}) is not None


def test_given_three_children_of_one_parent_when_each_asks_then_each_gets_the_records_it_can_expand():
    shared = SharedLists(
        ["available_phone_number_countries", "available_phone_numbers_local", "available_phone_numbers_mobile"]
    )
    keeper = shared.keeper("available_phone_number_countries", "r", {})
    keeper.add({"country_code": "US", "subresource_uris": {"local": "/l"}})
    keeper.add({"country_code": "GB", "subresource_uris": {"mobile": "/m"}})
    keeper.add({"country_code": "FR", "subresource_uris": {}})
    keeper.finish()
    first = [r["country_code"] for r in shared.take("available_phone_number_countries", "r")]
    second = [r["country_code"] for r in shared.take("available_phone_number_countries", "r")]
    assert first == second == ["US", "GB"]  # each child's own test picks its countries from these
    assert shared.take("available_phone_number_countries", "r") is None
