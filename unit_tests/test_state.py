from datetime import datetime, timezone

import pytest

from source_twilio.config import ConfigError
from source_twilio.state import StreamState, partition_key
from source_twilio.streams import SeenBefore

UTC = timezone.utc
SID = "AC" + "1" * 32


def test_given_cursors_when_serialised_then_compact_sorted_and_round_trip():
    state = StreamState()
    state.advance(SID, datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    state.advance(f"{SID}/Status=completed", datetime(2026, 1, 1, tzinfo=UTC))
    blob = state.to_json()
    assert blob == {
        "version": 1,
        "cursors": {SID: "2026-01-02T03:04:05Z", f"{SID}/Status=completed": "2026-01-01T00:00:00Z"},
    }
    assert StreamState.from_json(blob, "calls").to_json() == blob


def test_given_cursor_when_advanced_to_an_earlier_instant_then_it_does_not_move_back():
    state = StreamState()
    state.advance(SID, datetime(2026, 1, 2, tzinfo=UTC))
    state.advance(SID, datetime(2026, 1, 1, tzinfo=UTC))
    assert state.cursor(SID) == datetime(2026, 1, 2, tzinfo=UTC)


def test_given_no_state_when_read_then_empty_and_emits_nothing():
    assert StreamState.from_json(None, "calls").to_json() == {}
    assert StreamState.from_json({}, "calls").cursors == {}


@pytest.mark.parametrize(
    "blob, why",
    [
        ("2026-01-01", "it is a str, not an object"),
        ({"date_updated": "2026-01-01T00:00:00Z"}, "keys date_updated"),  # Airbyte's own connector
        ({SID: {"date_created": "2026-01-01"}}, "not version 1"),  # per-account upstream shape
        ({"version": 2, "cursors": {}}, "not version 1"),
        ({"version": 1, "cursors": {SID: "yesterday"}}, "not an ISO 8601 instant"),
        ({"version": 1, "cursors": {SID: 5}}, "not an ISO 8601 instant"),
        ({"version": 1, "cursors": {}, "digests": []}, "digests are not objects"),
    ],
)
def test_given_unreadable_state_when_read_then_config_error_says_why_and_how_to_reset(blob, why):
    with pytest.raises(ConfigError) as raised:
        StreamState.from_json(blob, "calls")
    assert "stream calls" in raised.value.message and why in raised.value.message and "Reset" in raised.value.message


def test_partition_keys_name_the_account_and_the_list():
    assert partition_key({"account_sid": SID}) == SID
    assert partition_key({"account_sid": SID, "params": {"Status": "in-progress"}}) == f"{SID}/Status=in-progress"


SINCE = datetime(2026, 3, 1, 0, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "record, changed",
    [
        ({"date_sent": "2026-02-28T23:00:00Z", "date_updated": "2026-02-28T23:00:05Z"}, False),
        ({"date_sent": "2026-02-28T23:00:00Z", "date_updated": "2026-02-28T23:59:59Z"}, False),
        ({"date_sent": "2026-02-28T23:00:00Z", "date_updated": "2026-03-01T00:00:00Z"}, True),  # same second
        ({"date_sent": "2026-02-28T23:00:00Z", "date_updated": "2026-03-01T09:00:00Z"}, True),
        ({"date_sent": "2026-03-01T00:00:00Z", "date_updated": "2026-02-28T00:00:00Z"}, True),  # out of reach
        ({"date_sent": None, "date_updated": "2026-02-01T00:00:00Z"}, False),  # unsent, seen by the sweep
        ({"date_sent": None, "date_updated": None}, True),  # no cursor: cannot tell, emit
        ({"date_sent": "2026-02-28T23:00:00Z", "date_updated": "garbage"}, True),
    ],
)
def test_given_previous_cursor_when_record_read_again_then_emitted_only_if_changed(record, changed):
    assert SeenBefore(SINCE, "date_sent", "date_updated").changed(record) is changed
