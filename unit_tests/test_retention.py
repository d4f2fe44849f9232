"""How far back a request may ask: computed when the request is built, and learned when Twilio refuses."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from source_twilio.definitions import BY_NAME
from source_twilio.retention import MARGIN, RetentionLimits

UTC = timezone.utc
ACCOUNT = "AC" + "1" * 32
MESSAGES = BY_NAME["messages"].time_filter
CALLS = BY_NAME["calls"].time_filter


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.moment = now

    def now(self) -> datetime:
        return self.moment


def test_given_a_long_sync_when_a_request_is_built_later_then_its_floor_has_moved_with_twilio_clock():
    """Issue 9 item 3: a floor computed once at the start is refused by Twilio an hour later."""
    clock = FakeClock(datetime(2026, 11, 28, 12, tzinfo=UTC))
    limits = RetentionLimits(clock)  # type: ignore[arg-type]
    first = limits.floor(ACCOUNT, MESSAGES)
    assert first == clock.moment - timedelta(days=400) + MARGIN
    clock.moment += timedelta(hours=3)
    assert limits.floor(ACCOUNT, MESSAGES) == first + timedelta(hours=3)
    assert limits.floor(ACCOUNT, CALLS) is None  # Twilio keeps calls: no floor


def test_given_twilio_refusing_a_range_when_shortened_then_the_longest_retention_it_accepts_is_found_in_few_requests():
    clock = FakeClock(datetime(2026, 11, 28, 12, tzinfo=UTC))
    limits = RetentionLimits(clock)  # type: ignore[arg-type]
    kept_days = 37
    asked: list[datetime] = []

    def accepts(start: datetime) -> bool:
        asked.append(start)
        return start >= clock.moment - timedelta(days=kept_days)

    refused_from = limits.floor(ACCOUNT, MESSAGES)
    assert limits.shorten(ACCOUNT, MESSAGES, refused_from, accepts)
    assert limits.days(ACCOUNT, MESSAGES) == kept_days
    assert limits.floor(ACCOUNT, MESSAGES) == clock.moment - timedelta(days=kept_days) + MARGIN
    assert len(asked) <= 10
    assert limits.days("AC" + "2" * 32, MESSAGES) == 400, "learned per account"


def test_given_a_refusal_of_a_range_asked_before_the_floor_moved_when_shortened_then_just_retried():
    clock = FakeClock(datetime(2026, 11, 28, 12, tzinfo=UTC))
    limits = RetentionLimits(clock)  # type: ignore[arg-type]
    limits.shorten(
        ACCOUNT, MESSAGES, limits.floor(ACCOUNT, MESSAGES), lambda start: start >= clock.moment - timedelta(days=30)
    )
    old_start = clock.moment - timedelta(days=200)
    assert limits.shorten(ACCOUNT, MESSAGES, old_start, lambda start: 1 / 0)  # no new search


def test_given_twilio_refusing_every_start_when_shortened_then_the_refusal_stands():
    clock = FakeClock(datetime(2026, 11, 28, 12, tzinfo=UTC))
    limits = RetentionLimits(clock)  # type: ignore[arg-type]
    assert not limits.shorten(ACCOUNT, MESSAGES, limits.floor(ACCOUNT, MESSAGES), lambda start: False)
