from datetime import datetime, timedelta, timezone
from itertools import pairwise

import pytest

from source_twilio.windows import Granularity, TimeFilter, Window, plan_windows

UTC = timezone.utc
DAY = timedelta(days=1)


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_given_range_when_planned_then_windows_tile_it_exactly():
    start, end = at(2024, 1, 15, 10, 30, 5), at(2024, 4, 2, 8)
    windows = plan_windows(start, end, timedelta(days=30))
    assert windows[0].start == start and windows[-1].end == end
    assert all(a.end == b.start for a, b in pairwise(windows))
    assert all(w.start < w.end for w in windows)


def test_given_two_runs_when_planned_then_inner_boundaries_are_the_same_instants():
    first = plan_windows(at(2024, 1, 1), at(2024, 6, 1), timedelta(days=30))
    second = plan_windows(at(2024, 2, 10, 13), at(2024, 6, 1), timedelta(days=30))
    assert {w.end for w in second[:-1]} <= {w.end for w in first}


def test_given_empty_or_reversed_range_when_planned_then_no_window():
    assert plan_windows(at(2024, 1, 1), at(2024, 1, 1), DAY) == []
    assert plan_windows(at(2024, 1, 2), at(2024, 1, 1), DAY) == []


def test_given_whole_days_when_planned_then_range_widens_to_midnights():
    windows = plan_windows(at(2024, 1, 1, 13), at(2024, 1, 3, 1), DAY, whole_days=True)
    assert windows == [
        Window(at(2024, 1, 1), at(2024, 1, 2)),
        Window(at(2024, 1, 2), at(2024, 1, 3)),
        Window(at(2024, 1, 3), at(2024, 1, 4)),
    ]


def test_given_window_when_contains_then_half_open():
    window = Window(at(2024, 1, 1), at(2024, 1, 2))
    assert window.contains(at(2024, 1, 1)) and window.contains(at(2024, 1, 1, 23, 59, 59))
    assert not window.contains(at(2024, 1, 2))


@pytest.mark.parametrize(
    "time_filter, expected",
    [
        (
            TimeFilter("date_sent", "DateSent>", "DateSent<", Granularity.SECOND, DAY),
            {"DateSent>": "2024-01-01T00:00:00Z", "DateSent<": "2024-01-02T00:00:00Z"},
        ),
        (
            TimeFilter("start_time", "StartTime>", "StartTime<", Granularity.DAY, DAY),
            {"StartTime>": "2024-01-01", "StartTime<": "2024-01-02"},
        ),
        (
            TimeFilter("start_date", "StartDate", "EndDate", Granularity.DATES, DAY),
            {"StartDate": "2024-01-01", "EndDate": "2024-01-02"},
        ),
        (
            TimeFilter("date_generated", "StartDate", "EndDate", Granularity.SECOND, DAY),
            {"StartDate": "2024-01-01T00:00:00Z", "EndDate": "2024-01-02T00:00:00Z"},
        ),
    ],
)
def test_given_a_window_when_params_then_they_ask_one_unit_beyond_its_end(time_filter, expected):
    """Whether Twilio's upper bound means "before" or "on or before", the whole window comes back."""
    assert time_filter.params(Window(at(2024, 1, 1), at(2024, 1, 2))) == expected


def test_given_a_window_ending_mid_day_when_params_by_day_then_the_next_day_is_asked_too():
    time_filter = TimeFilter("start_time", "StartTime>", "StartTime<", Granularity.DAY, DAY)
    assert time_filter.params(Window(at(2024, 1, 1, 5), at(2024, 1, 3, 7)))["StartTime<"] == "2024-01-04"


def test_given_a_window_when_halved_then_two_windows_meet_at_a_whole_second():
    left, right = Window(at(2024, 1, 1), at(2024, 1, 1, 0, 0, 3)).halves()
    assert left.end == right.start == at(2024, 1, 1, 0, 0, 1) and left.start == at(2024, 1, 1)
    assert Window(at(2024, 1, 1), at(2024, 1, 1, 0, 0, 1)).halves() is None


def test_given_window_when_round_tripped_through_slice_then_equal():
    window = Window(at(2024, 1, 1, 5), at(2024, 1, 9, 7, 8, 9))
    assert Window.from_slice(window.as_slice()) == window
