from datetime import datetime, timezone

import pytest

from source_twilio.config import ConfigError
from source_twilio.state import StreamState, partition_key

UTC = timezone.utc
SID = "AC" + "1" * 32


def test_given_cursors_and_versions_when_serialised_then_compact_sorted_and_round_trip():
    state = StreamState()
    state.advance(SID, datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    state.advance(f"{SID}/Status=completed", datetime(2026, 1, 1, tzinfo=UTC))
    state.remember(SID, {1, 2**47 + 5}, replace=False)
    blob = state.to_json()
    assert blob["version"] == 2
    assert blob["cursors"] == {SID: "2026-01-02T03:04:05Z", f"{SID}/Status=completed": "2026-01-01T00:00:00Z"}
    assert set(blob["seen"]) == {SID} and len(blob["seen"][SID]) == 16  # two 6-byte versions in base64
    again = StreamState.from_json(blob, "calls")
    assert again.to_json() == blob and again.seen(SID) == {1, 2**47 + 5}


def test_given_versions_when_remembered_then_added_until_the_partitions_last_slice_replaces_them():
    state = StreamState()
    state.remember(SID, {1, 2}, replace=False)
    state.remember(SID, {3}, replace=False)
    assert state.seen(SID) == {1, 2, 3}
    state.remember(SID, {3, 4}, replace=True)
    assert state.seen(SID) == {3, 4}
    state.remember(SID, set(), replace=True)
    assert "seen" not in state.to_json()


def test_given_children_by_parent_version_when_serialised_then_they_round_trip_and_the_size_counts_them():
    state = StreamState()
    state.advance(SID, datetime(2026, 1, 2, tzinfo=UTC))
    empty_size = state.size
    by_parent = {7: frozenset({1, 2}), 2**47 + 1: frozenset()}
    state.remember(SID, {1, 2}, replace=False, children=by_parent)
    blob = state.to_json()
    assert len(blob["children"][SID]) == 36  # 26 bytes (7 + 2 * 6, then 7) in base64
    assert state.size - empty_size >= len(blob["children"][SID]) + len(blob["seen"][SID])
    again = StreamState.from_json(blob, "message_media")
    assert again.children(SID) == by_parent and again.to_json() == blob


def test_given_children_when_remembered_then_added_until_the_partitions_last_slice_replaces_them():
    state = StreamState()
    state.remember(SID, set(), replace=False, children={1: frozenset({10})})
    state.remember(SID, set(), replace=False, children={2: frozenset({20})})
    assert state.children(SID) == {1: frozenset({10}), 2: frozenset({20})}
    state.remember(SID, set(), replace=True, children={2: frozenset({20})})
    assert state.children(SID) == {2: frozenset({20})}
    state.remember(SID, set(), replace=True)
    assert "children" not in state.to_json()


def test_given_a_parent_with_more_children_than_a_byte_counts_then_it_is_left_out_of_the_json():
    state = StreamState()
    state.remember(SID, set(), replace=False, children={1: frozenset(range(256)), 2: frozenset({5})})
    assert StreamState.from_json(state.to_json(), "message_media").children(SID) == {2: frozenset({5})}


def test_given_state_when_asked_again_without_change_then_the_same_object_is_returned():
    """The CDK asks for the state after every record: it is built once per change."""
    state = StreamState()
    state.advance(SID, datetime(2026, 1, 2, tzinfo=UTC))
    first = state.to_json()
    assert state.to_json() is first
    state.advance(SID, datetime(2026, 1, 3, tzinfo=UTC))
    assert state.to_json() is not first


def test_given_cursor_when_advanced_to_an_earlier_instant_then_it_does_not_move_back():
    state = StreamState()
    state.advance(SID, datetime(2026, 1, 2, tzinfo=UTC))
    state.advance(SID, datetime(2026, 1, 1, tzinfo=UTC))
    assert state.cursor(SID) == datetime(2026, 1, 2, tzinfo=UTC)


def test_given_no_state_when_read_then_empty_and_emits_nothing():
    assert StreamState.from_json(None, "calls").to_json() == {}
    assert StreamState.from_json({}, "calls").cursors == {}


def test_given_version_1_state_when_read_then_cursors_are_kept_and_digests_dropped():
    blob = {"version": 1, "cursors": {SID: "2026-01-01T00:00:00Z"}, "digests": {SID: {"2026-01-01|sms": "ab12"}}}
    state = StreamState.from_json(blob, "usage_records")
    assert state.cursor(SID) == datetime(2026, 1, 1, tzinfo=UTC)
    assert state.seen(SID) == frozenset()


@pytest.mark.parametrize(
    "blob, why",
    [
        ("2026-01-01", "it is a str, not an object"),
        ({"cursor": {"id": 5}, "page": 3}, "keys cursor, page"),  # another connector's
        ({SID: {"id": 5}}, "not version 2"),
        ({"version": 3, "cursors": {}}, "not version 2"),
        ({"version": 2, "cursors": {SID: "yesterday"}}, "not an ISO 8601 instant"),
        ({"version": 2, "cursors": {SID: 5}}, "not an ISO 8601 instant"),
        ({"version": 2, "cursors": {}, "seen": []}, "seen versions are not strings"),
        ({"version": 2, "cursors": {}, "seen": {SID: "not base64!"}}, "seen versions or children are not readable"),
        ({"version": 2, "cursors": {}, "seen": {SID: "AAAA"}}, "not a whole number of versions"),
        ({"version": 2, "cursors": {}, "children": {SID: 5}}, "children are not strings"),
        ({"version": 2, "cursors": {}, "children": {SID: "AAAAAAAAAg=="}}, "is cut short"),  # counts 2, holds none
        ({"version": 2, "cursors": {}, "children": {SID: "AAAA"}}, "is cut short"),
    ],
)
def test_given_unreadable_state_when_read_then_config_error_says_why_and_how_to_reset(blob, why):
    with pytest.raises(ConfigError) as raised:
        StreamState.from_json(blob, "calls")
    assert "stream calls" in raised.value.message and why in raised.value.message and "Reset" in raised.value.message


def test_partition_keys_name_the_account_and_the_list():
    assert partition_key({"account_sid": SID}) == SID
    assert partition_key({"account_sid": SID, "params": {"Status": "in-progress"}}) == f"{SID}/Status=in-progress"


@pytest.mark.parametrize(
    "blob, cursors, every_account",
    [
        ({"date_updated": "2026-01-01T00:00:00Z"}, {}, datetime(2026, 1, 1, tzinfo=UTC)),  # one flat cursor
        ({SID: {"date_created": "2026-01-01"}}, {SID: datetime(2026, 1, 1, tzinfo=UTC)}, None),  # per account SID
        (
            {
                "states": [
                    {
                        "partition": {"subresource_uri": f"/2010-04-01/Accounts/{SID}/Messages/SM1/Media.json"},
                        "cursor": {"date_created": "2026-02-01T00:00:00Z"},
                    },
                    {
                        "partition": {"subresource_uri": f"/2010-04-01/Accounts/{SID}/Messages/SM2/Media.json"},
                        "cursor": {"date_created": "Thu, 01 Jan 2026 00:00:00 +0000"},
                    },
                ],
                "state": {"date_created": "2025-06-01T00:00:00Z"},
            },
            {SID: datetime(2026, 1, 1, tzinfo=UTC)},  # the earliest of the account's partitions
            datetime(2025, 6, 1, tzinfo=UTC),
        ),
    ],
    ids=["flat", "per-account", "per-partition"],
)
def test_given_the_state_airbytes_connector_left_when_read_then_each_account_resumes_from_its_cursor(
    blob, cursors, every_account
):
    state = StreamState.from_json(blob, "messages")
    assert state.cursors == cursors
    assert state.cursor("AC" + "9" * 32) == every_account
    for sid in cursors:
        assert state.cursor(f"{sid}/Status=completed") is None  # a list Airbyte never read by Status: from the start
    assert state.migrated
