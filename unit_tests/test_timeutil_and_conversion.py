from datetime import datetime, timezone

import pytest

from source_twilio import timeutil
from source_twilio.conversion import RecordConverter, to_datetime, to_integer, to_number
from source_twilio.timeutil import format_datetime, parse_iso_datetime, parse_twilio_datetime

UTC = timezone.utc


@pytest.mark.parametrize(
    "wire, expected",
    [
        ("Fri, 18 Oct 2019 17:02:00 +0000", datetime(2019, 10, 18, 17, 2, tzinfo=UTC)),
        ("Thu, 23 Feb 2017 10:26:31 -0800", datetime(2017, 2, 23, 18, 26, 31, tzinfo=UTC)),
        ("Thu, 23 Feb 2017 20:26:31 -0800", datetime(2017, 2, 24, 4, 26, 31, tzinfo=UTC)),  # crosses midnight
        ("Mon, 01 Jan 2024 05:00:00 +0530", datetime(2023, 12, 31, 23, 30, tzinfo=UTC)),
        ("Wed, 19 Jun 2019 22:04:00 -0000", datetime(2019, 6, 19, 22, 4, tzinfo=UTC)),
        ("1 Mar 2020 00:00:00 +0000", datetime(2020, 3, 1, tzinfo=UTC)),
        ("2015-07-30T20:00:00Z", datetime(2015, 7, 30, 20, tzinfo=UTC)),
        ("2019-06-24T22:32:49+00:00", datetime(2019, 6, 24, 22, 32, 49, tzinfo=UTC)),
        ("2019-06-24T22:32:49-07:00", datetime(2019, 6, 25, 5, 32, 49, tzinfo=UTC)),
    ],
)
def test_given_twilio_timestamp_when_parsed_then_utc_instant(wire, expected):
    assert parse_twilio_datetime(wire) == expected


@pytest.mark.parametrize(
    "wire",
    [
        "",
        "yesterday",
        "Fri, 32 Oct 2019 17:02:00 +0000",
        "2019-13-01",
        "Mon, 01 Jan 0001 00:30:00 +0100",  # before year 1 in UTC: it used to raise OverflowError and end the sync
        "0001-01-01T00:30:00+01:00",
        "Fri, 31 Dec 9999 23:30:00 -0100",
        "9999-12-31T23:30:00-01:00",
    ],
)
def test_given_garbage_when_parsed_then_none(wire):
    assert parse_twilio_datetime(wire) is None


def test_given_date_only_when_parsed_as_iso_then_midnight_utc():
    assert parse_iso_datetime("2024-02-29") == datetime(2024, 2, 29, tzinfo=UTC)


def test_given_instant_when_formatted_then_iso_with_z():
    assert format_datetime(datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2024-01-02T03:04:05Z"


@pytest.mark.parametrize(
    "convert, wire, expected",
    [
        (to_datetime, "Thu, 23 Feb 2017 10:26:31 -0800", "2017-02-23T18:26:31Z"),
        (to_datetime, "not a date", "not a date"),
        (to_integer, "15", 15),
        (to_integer, "15.0", 15),
        (to_integer, "1.5", "1.5"),
        (to_integer, "n/a", "n/a"),
        (to_integer, 7, 7),
        (to_number, "-0.00750", -0.0075),
        (to_number, "NaN", "NaN"),
        (to_number, "abc", "abc"),
        (to_number, 1.25, 1.25),
    ],
)
def test_given_wire_value_when_converted_then_typed_or_kept(convert, wire, expected):
    assert convert(wire) == expected


SCHEMA = {
    "properties": {
        "sid": {"type": ["null", "string"]},
        "date_sent": {"type": ["null", "string"], "format": "date-time"},
        "start_date": {"type": ["null", "string"], "format": "date"},
        "price": {"type": ["null", "number"]},
        "num_media": {"type": ["null", "integer"]},
        "subresource_uris": {"type": ["null", "object"]},
    }
}


def test_given_schema_when_converter_built_then_only_typed_fields_are_planned():
    converter = RecordConverter(SCHEMA)
    assert converter.planned_fields == {"date_sent": "to_datetime", "num_media": "to_integer", "price": "to_number"}


def test_given_record_when_converted_then_nulls_stay_unknown_fields_stay_and_secrets_go():
    converter = RecordConverter(SCHEMA, drop_fields=frozenset({"auth_token"}))
    record = {
        "sid": "SM1",
        "date_sent": None,
        "start_date": "2024-01-01",
        "price": "-0.0075",
        "num_media": "oops",
        "extra": {"a": 1},
        "auth_token": "secret",
    }
    assert converter(record) == {
        "sid": "SM1",
        "date_sent": None,
        "start_date": "2024-01-01",
        "price": -0.0075,
        "num_media": "oops",
        "extra": {"a": 1},
    }


@pytest.mark.parametrize(
    "wire",
    [
        "Fri, 18 Oct 2019 17:02:00 +0000",
        "Thu, 29 Feb 2024 23:59:59 +0000",
        "Sat, 01 Jan 2000 00:00:00 +0000",
        "Thu, 29 Feb 2023 10:00:00 +0000",  # not a date: the slow path keeps it as it came
        "Fri, 31 Apr 2019 17:02:00 +0000",
        "Fri, 18 Oct 2019 24:02:00 +0000",
        "Thu, 23 Feb 2017 10:26:31 -0800",
        "Thu, 23 Feb 2017 20:26:31 -0800",  # the next day
        "Thu, 31 Dec 2026 20:00:00 -0800",  # the next year
        "Mon, 01 Jan 2024 05:00:00 +0530",  # the previous year
        "Thu, 29 Feb 2024 23:30:00 -0100",  # a leap day, to 1 March
        "Fri, 01 Mar 2024 00:30:00 +0100",  # 1 March, to a leap day
        "Wed, 19 Jun 2019 22:04:00 -0000",
        "Sat, 18 Oct 2019 17:02:00 +1400",
        "Sat, 18 Oct 2019 17:02:00 +2400",  # not an offset: the slow path's answer
        "Sat, 01 Jan 0001 00:30:00 +0100",  # before year 1 in UTC
        "Fri, 31 Dec 9999 23:30:00 -0100",  # past 9999
    ],
)
def test_given_rfc2822_when_fast_path_taken_then_same_as_full_parser(wire):
    parsed = parse_twilio_datetime(wire)
    assert to_datetime(wire) == (format_datetime(parsed) if parsed else wire)


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ("Sat, 29 Feb 2024 10:00:00 +0000", "2024-02-29T10:00:00Z"),
        ("Sun, 29 Feb 2023 10:00:00 +0000", "Sun, 29 Feb 2023 10:00:00 +0000"),  # no such day: kept as it came
        ("Mon, 31 Nov 2026 10:00:00 +0000", "Mon, 31 Nov 2026 10:00:00 +0000"),
        ("Sat, 28 Nov 2026 24:00:00 +0000", "Sat, 28 Nov 2026 24:00:00 +0000"),
        ("Sat, 28 Nov 2026 23:59:59 +0000", "2026-11-28T23:59:59Z"),
        ("Sat, 28 Nov 2026 23:59:59 +0100", "2026-11-28T22:59:59Z"),
    ],
)
def test_given_a_day_seen_before_when_converted_again_then_the_same_answer(wire, expected):
    """The fast path remembers the days it read; a second look at a day gives what the first did."""
    assert to_datetime(wire) == expected
    assert to_datetime(wire) == expected


@pytest.mark.parametrize(
    "wire",
    [
        "Sat, 28 Nov 2026 23:59:59 +0000",  # a day seen before (the first conversion reads it)
        "Sat, 28 Nov 2026 24:00:00 +0000",  # not a time of day
        "Sat, 28 Nov 2026 23:5:599 +0000",
        "Sun, 29 Feb 2023 10:00:00 +0000",  # not a day
        "Sat, 28 Nov 2026 23:59:59 -0000",
        "Sat, 28 Nov 2026 23:59:59 +0100",
        "Sat, 28 Nov 2026 23:59:59 +00000",
        "2026-11-28T23:59:59Z",
        "",
        17,
    ],
)
def test_given_a_timestamp_in_a_record_when_converted_then_as_the_field_alone_twice(wire):
    """The converter's own fast path for Twilio's UTC shape gives what ``to_datetime`` gives, first and again."""
    converter = RecordConverter(SCHEMA)
    for _ in range(2):
        assert converter({"date_sent": wire})["date_sent"] == to_datetime(wire)


@pytest.mark.parametrize(
    "wire",
    [
        "Sat, 28 Nov 2026 23:59:59 +0000",
        "Sat, 28 Nov 2026 23:59:59 -0000",
        "Sat, 28 Nov 2026 23:60:00 +0000",  # the hour is known, the rest is not a time
        "Sat, 28 Nov 2026 23:59:60 +0000",
        "Sat, 28 Nov 2026 23:5:599 +0000",
        "Sat, 28 Nov 2026 23:59:59 +0100",
        "Sat, 28 Nov 2026 23:59:59 +00000",
        "Sat, 28 Nov 2026 23:59:59 +0000 ",
        "Sat, 28 Nov 2026 23",
        "Sat, 28 Nov 2026 23:59:59",
        ["Sat, 28 Nov 2026 23:59:59 +0000"],
    ],
)
def test_given_an_hour_read_before_when_a_timestamp_of_it_is_converted_then_as_the_field_alone(wire):
    """The converter remembers the hours of the UTC timestamps it read ("Sat, 28 Nov 2026 23"); any other timestamp
    of that hour, well formed or not, converts as ``to_datetime`` converts it."""
    converter = RecordConverter(SCHEMA)
    converter({"date_sent": "Sat, 28 Nov 2026 23:00:00 +0000"})
    assert converter({"date_sent": wire})["date_sent"] == to_datetime(wire)


def test_given_more_hours_than_remembered_when_converted_then_the_memory_stays_bounded(monkeypatch):
    monkeypatch.setattr(timeutil, "_HOURS_SEEN_MAX", 10)
    converter = RecordConverter(SCHEMA)
    for day in range(1, 29):
        for hour in (0, 13, 23):
            wire = f"Sat, {day:02d} Feb 2026 {hour:02d}:07:09 +0000"
            assert converter({"date_sent": wire})["date_sent"] == f"2026-02-{day:02d}T{hour:02d}:07:09Z"
            assert len(timeutil._HOURS_SEEN) <= 10


@pytest.mark.parametrize(
    "wire", ["0", "3", "007", "\u0663", "9" * 18, "9" * 5000, "-4", "2.0", "1e3", " 5", "x", 3.0, True, [1], {"1": 1}]
)
def test_given_an_integer_field_when_converted_then_as_the_field_alone(wire):
    assert RecordConverter(SCHEMA)({"num_media": wire})["num_media"] == to_integer(wire)


def test_given_every_small_count_when_converted_then_the_integer_it_writes():
    """Counts (segments, media, participants) are a few digits: looked up, not parsed; each as ``int`` reads it."""
    converter = RecordConverter(SCHEMA)
    for number in range(2000):
        for wire in (str(number), f"{number:04d}", f"-{number}"):
            converted = converter({"num_media": wire})["num_media"]
            assert converted == int(wire) and converted.__class__ is int, wire
