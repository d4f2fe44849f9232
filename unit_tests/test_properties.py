"""Property-based tests (hypothesis) of what must hold for every input, not only the examples we thought of.

- Record conversion never raises and never drops a field; nulls stay null; an instant is the same instant in UTC.
- Windows cover the requested range exactly, and every instant in it is asked for by exactly one window and kept
  by that window alone, for each of Twilio's filter granularities.
- State: cursors never move back, survive a round trip, and anything else saved gives a clear error.
- Next-page links: a URL is followed only on the configured origins; Twilio's error answers never crash the handler.
"""

from __future__ import annotations

import logging
import string
from datetime import date, datetime, timedelta, timezone
from itertools import pairwise

import requests
from airbyte_cdk.sources.streams.http.error_handlers import ErrorResolution
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from source_twilio.config import ConfigError
from source_twilio.conversion import RecordConverter, to_datetime, to_integer, to_number
from source_twilio.definitions import BY_NAME, STREAMS
from source_twilio.emission import WHOLE_RECORD, Place, Previously, SliceRules
from source_twilio.errors import TwilioErrorHandler, describe
from source_twilio.lists import _schema
from source_twilio.pagination import next_page_url
from source_twilio.state import StreamState
from source_twilio.timeutil import format_date, format_datetime, parse_twilio_datetime
from source_twilio.windows import EPOCH, Granularity, Window, plan_windows
from unit_tests.conftest import ACCOUNT_SID

UTC = timezone.utc
CONVERTERS = {convert.__name__: convert for convert in (to_datetime, to_integer, to_number)}
SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

PROPERTIES = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

instants = st.datetimes(min_value=datetime(2008, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)).map(
    lambda moment: moment.replace(microsecond=0)
)
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda minutes: timedelta(minutes=minutes))


def rfc2822(moment: datetime, offset: timedelta, two_digit_day: bool = True) -> str:
    """How Twilio's 2010 API writes an instant: 'Fri, 18 Oct 2019 17:02:00 +0000', in any offset."""
    local = (moment + offset).replace(tzinfo=None)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    day = f"{local.day:02d}" if two_digit_day else str(local.day)
    return (
        f"{WEEKDAYS[local.weekday()]}, {day} {MONTHS[local.month - 1]} {local.year} "
        f"{local:%H:%M:%S} {sign}{minutes // 60:02d}{minutes % 60:02d}"
    )


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.from_regex(r"-?\d{1,12}(\.\d{1,6})?", fullmatch=True),  # numbers as Twilio sends them: strings
    st.builds(rfc2822, instants, offsets, st.booleans()),
    instants.map(format_datetime),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)


# --- record conversion ----------------------------------------------------------------------------------------


@settings(PROPERTIES, max_examples=300)
@given(stream=st.sampled_from([definition.name for definition in STREAMS]), data=st.data())
def test_given_any_record_when_converted_then_it_never_raises_and_keeps_every_field(stream, data):
    schema = _schema(stream)
    known = sorted(schema.get("properties", {}))
    record = data.draw(st.dictionaries(st.sampled_from(known), json_values, max_size=len(known)), label="fields")
    record |= data.draw(st.dictionaries(st.text(min_size=1, max_size=12), json_values, max_size=3), label="extra")
    before = dict(record)
    dropped = BY_NAME[stream].drop_fields
    converted = RecordConverter(schema, drop_fields=dropped)(record)
    assert set(converted) == set(before) - dropped
    planned = RecordConverter(schema).planned_fields
    for name, value in before.items():
        if name in dropped:
            continue
        expected = value if value is None or name not in planned else CONVERTERS[planned[name]](value)
        assert converted[name] == expected or (value != value and converted[name] != converted[name])  # NaN


@PROPERTIES
@given(moment=instants, offset=offsets, two_digit_day=st.booleans())
def test_given_an_rfc2822_instant_in_any_offset_when_converted_then_the_same_instant_in_iso_utc(
    moment, offset, two_digit_day
):
    assert to_datetime(rfc2822(moment, offset, two_digit_day)) == format_datetime(moment)


def two_digits(low: int, high: int) -> st.SearchStrategy[str]:
    return st.integers(min_value=low, max_value=high).map("{:02d}".format)


# Twilio's shape with each piece drawn from right and wrong values: days past the month's end, hours past 23, ...
twilio_shaped = st.builds(
    "{}, {} {} {} {}:{}:{} {}{}".format,
    st.sampled_from(WEEKDAYS),
    two_digits(0, 32) | st.sampled_from(["1 ", " 1", "x1"]),
    st.sampled_from((*MONTHS, "Foo", "jan")),
    st.sampled_from(["2024", "2023", "2100", "2000", "0001", "9999", "20x4"]),
    two_digits(0, 29) | st.sampled_from(["1 ", "-1"]),
    two_digits(0, 69),
    two_digits(0, 69) | st.just("5 "),
    st.sampled_from("+- "),
    st.sampled_from(["0000", "0100", "0530", "1400", "2400", "0060", "00 0"]),
)


@PROPERTIES
@given(wire=twilio_shaped, hour_known=st.booleans())
def test_given_anything_in_twilios_shape_when_converted_then_as_the_full_parser_reads_it(wire, hour_known):
    """The fast paths (days and hours remembered, UTC first) give the full parser's answer: on a first look and
    again, in a record and alone, whether or not another timestamp of the same hour was read before."""
    parsed = parse_twilio_datetime(wire)
    expected = format_datetime(parsed) if parsed else wire
    converter = RecordConverter({"properties": {"at": {"type": ["null", "string"], "format": "date-time"}}})
    if hour_known:
        converter({"at": wire[:19] + ":00:00 +0000"})
    for _ in range(2):
        assert to_datetime(wire) == expected
        assert converter({"at": wire})["at"] == expected


@PROPERTIES
@given(moment=st.datetimes(min_value=datetime(2008, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)))
def test_given_an_iso_instant_when_converted_then_it_is_unchanged_as_an_instant(moment):
    assert to_datetime(format_datetime(moment)) == format_datetime(moment)


@PROPERTIES
@given(number=st.integers(min_value=-(10**15), max_value=10**15), real=st.floats(allow_nan=False, allow_infinity=False))
def test_given_numbers_as_strings_when_converted_then_the_numbers(number, real):
    assert to_integer(str(number)) == number
    assert to_number(repr(real)) == real


@PROPERTIES
@given(value=json_values)
def test_given_any_value_when_converted_then_no_converter_raises(value):
    for convert in (to_datetime, to_integer, to_number):
        convert(value)


# --- windows --------------------------------------------------------------------------------------------------


window_sizes = st.sampled_from([timedelta(days=7), timedelta(days=30), timedelta(days=90), timedelta(days=180)])


@PROPERTIES
@given(
    start=instants, length=st.integers(min_value=-5, max_value=800 * 86400), size=window_sizes, whole_days=st.booleans()
)
def test_given_any_range_when_planned_then_windows_cover_it_exactly(start, length, size, whole_days):
    end = start + timedelta(seconds=length)
    windows = plan_windows(start, end, size, whole_days=whole_days)
    low, high = (start, end)
    if whole_days:
        low = start.replace(hour=0, minute=0, second=0)
        high = end.replace(hour=0, minute=0, second=0) + (DAY if end.time() != datetime.min.time() else timedelta(0))
    if high <= low:
        assert windows == []
        return
    assert windows[0].start == low and windows[-1].end == high
    assert all(a.end == b.start for a, b in pairwise(windows))
    assert all(timedelta(0) < w.end - w.start <= size for w in windows)
    assert all((w.end - EPOCH) % size == timedelta(0) for w in windows[:-1]), "inner boundaries move between runs"
    assert all(Window.from_slice(w.as_slice()) == w for w in windows)


WINDOWED_STREAMS = ["messages", "calls", "usage_records", "alerts"]  # SECOND, DAY, DATES, SECOND on Monitor


def requested(granularity: Granularity, params: dict[str, str], moment: datetime, upper_inclusive: bool) -> bool:
    """Whether Twilio's filter returns a record at ``moment``: lower bound inclusive, upper bound either way."""
    values = sorted(params.values())
    low, high = values[0], values[-1]
    if granularity in (Granularity.DAY, Granularity.DATES):
        value, low, high = format_date(moment.date()), low[:10], high[:10]
    else:
        value = format_datetime(moment)
    return low <= value and (value <= high if upper_inclusive else value < high)


@PROPERTIES
@given(
    stream=st.sampled_from(WINDOWED_STREAMS),
    start=instants,
    length=st.integers(min_value=1, max_value=400 * 86400),
    data=st.data(),
)
def test_given_any_instant_in_the_range_when_windowed_then_exactly_one_window_asks_for_it_and_keeps_it(
    stream, start, length, data
):
    time_filter = BY_NAME[stream].time_filter
    windows = plan_windows(start, start + timedelta(seconds=length), time_filter.window, time_filter.whole_days)
    moment = data.draw(
        st.datetimes(
            min_value=windows[0].start.replace(tzinfo=None),
            max_value=(windows[-1].end - SECOND).replace(tzinfo=None),
            timezones=st.just(UTC),
        ).map(lambda m: m.replace(microsecond=0))
    )
    if time_filter.whole_days:
        moment = moment.replace(hour=0, minute=0, second=0)
    record = {time_filter.field: time_filter.value_of(moment)}
    keeping = []
    for window in windows:
        low, high = time_filter.bounds(window)
        rules = SliceRules(key_fields=(), version_fields=(), time_field=time_filter.field, low=low, high=high)
        if rules.place(record) is Place.INSIDE:
            keeping.append(window)
    assert len(keeping) == 1, (record, keeping)
    params = time_filter.params(keeping[0])
    for inclusive in (True, False):  # "on or before" and "before": either reading returns it
        assert requested(time_filter.granularity, params, moment, inclusive), (record, params, inclusive)


@PROPERTIES
@given(
    start=instants,
    first_run=st.integers(min_value=1, max_value=400 * 86400),
    completed=st.integers(min_value=0, max_value=20),
    lookback_minutes=st.integers(min_value=0, max_value=525_600),
    later=st.integers(min_value=0, max_value=60 * 86400),
    size=window_sizes,
)
def test_given_a_sync_stopped_after_any_window_when_the_next_resumes_from_the_cursor_then_no_instant_is_skipped(
    start, first_run, completed, lookback_minutes, later, size
):
    now = start + timedelta(seconds=first_run)
    windows = plan_windows(start, now, size)
    done = windows[: min(completed, len(windows))]
    state = StreamState()
    for window in done:
        state.advance(ACCOUNT_SID, window.end)
    cursor = state.cursor(ACCOUNT_SID)
    resume_from = start if cursor is None else max(start, cursor - timedelta(minutes=lookback_minutes))
    resumed = plan_windows(resume_from, now + timedelta(seconds=later), size)
    covered = sorted([(w.start, w.end) for w in done + resumed])
    assert covered[0][0] == start
    reach = covered[0][1]
    for low, high in covered[1:]:
        assert low <= reach, f"gap from {reach} to {low}"
        reach = max(reach, high)
    assert reach == now + timedelta(seconds=later)


# --- state ----------------------------------------------------------------------------------------------------


keys = st.text(alphabet=string.ascii_letters + string.digits + "/=-", min_size=1, max_size=40)


@PROPERTIES
@given(advances=st.lists(st.tuples(st.sampled_from(["AC1", "AC2", "AC1/Status=init"]), instants), max_size=30))
def test_given_any_sequence_of_advances_when_applied_then_each_cursor_is_the_latest_and_never_moves_back(advances):
    state = StreamState()
    seen: dict[str, datetime] = {}
    for key, moment in advances:
        before = state.cursor(key)
        state.advance(key, moment)
        seen[key] = max(seen.get(key, moment), moment)
        assert before is None or state.cursor(key) >= before
    assert state.cursors == seen


@PROPERTIES
@given(
    cursors=st.dictionaries(keys, st.datetimes(min_value=datetime(2008, 1, 1), timezones=st.just(UTC)), max_size=5),
    seen=st.dictionaries(keys, st.sets(st.integers(min_value=0, max_value=2**48 - 1), max_size=5), max_size=3),
)
def test_given_any_state_when_saved_and_read_back_then_it_is_the_same(cursors, seen):
    state = StreamState(cursors={k: v.replace(microsecond=0) for k, v in cursors.items()}, seen=seen)
    again = StreamState.from_json(state.to_json(), "messages")
    assert again.to_json() == state.to_json()
    assert again.cursors == state.cursors and all(again.seen(key) == frozenset(v) for key, v in seen.items())


@PROPERTIES
@given(
    saved=json_values
    | st.fixed_dictionaries(
        {"version": st.sampled_from([1, 2]), "cursors": json_values}, optional={"seen": json_values}
    )
)
def test_given_anything_saved_as_state_when_read_then_a_state_or_a_clear_error(saved):
    try:
        StreamState.from_json(saved, "messages")
    except ConfigError as error:
        assert "saved state of stream messages" in error.message and "Reset" in error.message


# --- links and answers ----------------------------------------------------------------------------------------


ALLOWED = frozenset({"https://api.twilio.com", "https://monitor.twilio.com"})
hosts = st.sampled_from(
    [
        "api.twilio.com",
        "monitor.twilio.com",
        "API.TWILIO.COM",
        "evil.example",
        "api.twilio.com.evil.example",
        "127.0.0.1",
    ]
) | st.from_regex(r"[a-z0-9]{1,10}(\.[a-z0-9]{1,10}){0,3}", fullmatch=True)
links = st.builds(
    lambda scheme, userinfo, host, port, path: f"{scheme}{userinfo}{host}{port}{path}",
    st.sampled_from(["https://", "http://", "//", "ftp://", "HTTPS://"]),
    st.sampled_from(["", "user@", "api.twilio.com@", "user:pass@"]),
    hosts,
    st.sampled_from(["", ":443", ":8443", ":80"]),
    st.from_regex(r"(/[A-Za-z0-9._~%-]{0,12}){0,4}(\?[A-Za-z0-9=&%-]{0,20})?", fullmatch=True),
) | st.from_regex(r"/2010-04-01/[A-Za-z0-9/._-]{0,30}(\?[A-Za-z0-9=&%-]{0,20})?", fullmatch=True)


@PROPERTIES
@given(link=links, monitor=st.booleans())
def test_given_any_next_page_link_when_followed_then_only_to_a_configured_origin(link, monitor):
    body = {"meta": {"next_page_url": link}} if monitor else {"next_page_uri": link}
    try:
        url = next_page_url(body, "https://api.twilio.com/2010-04-01/", ALLOWED, "messages")
    except AirbyteTracedException as error:
        assert "not a Twilio host" in error.message
        return
    assert url is not None
    scheme, _, rest = url.partition("://")
    assert f"{scheme.lower()}://{rest.split('/', 1)[0].split('?', 1)[0].lower()}" in ALLOWED


def response(status: int, body: bytes, url: str) -> requests.Response:
    answer = requests.Response()
    answer.status_code = status
    answer._content = body
    answer.request = requests.Request("GET", url).prepare()
    answer.url = url
    return answer


bodies = st.one_of(
    st.binary(max_size=200),
    st.builds(
        lambda code, message: f'{{"code": {code}, "message": "{message}"}}'.encode(),
        st.integers(),
        st.text(alphabet=string.ascii_letters + " ", max_size=40),
    ),
    st.sampled_from(
        [b"<html><body><h1>502 Bad Gateway</h1></body></html>", b'{"accounts": [', b"[]", b"null", b"42", b'"text"']
    ),
)


@PROPERTIES
@given(status=st.integers(min_value=100, max_value=599), body=bodies, ignore_404=st.booleans())
def test_given_any_answer_when_interpreted_then_the_handler_decides_without_raising(status, body, ignore_404):
    url = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json?PageSize=1000"
    answer = response(status, body, url)
    handler = TwilioErrorHandler("messages", ignore_404, logging.getLogger("test"))
    resolutions = [handler.interpret_response(answer) for _ in range(4)]  # 401s are retried, then decided
    assert all(isinstance(resolution, ErrorResolution) for resolution in resolutions)
    assert describe(answer).startswith(f"HTTP {status}")


def test_given_the_date_helpers_when_used_by_these_properties_then_they_agree_with_the_connector():
    assert rfc2822(datetime(2019, 10, 18, 17, 2, tzinfo=UTC), timedelta(0)) == "Fri, 18 Oct 2019 17:02:00 +0000"
    assert format_date(date(2024, 1, 2)) == "2024-01-02"


iso_or_not = st.one_of(
    st.none(),
    instants.map(format_datetime),
    instants.map(lambda moment: format_date(moment.date())),
    st.sampled_from(["", "Sat, 28 Nov 2026 23:59:59 +0000", "9", ":", "~"]),
    st.integers(),
)


few_instants = st.sampled_from(["2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z", "2026-06-01"])  # bounds met exactly
bounds = st.none() | instants.map(format_datetime) | few_instants
page_values = iso_or_not | few_instants


@settings(PROPERTIES, max_examples=400)
@given(
    time_field=st.sampled_from([None, "date_sent"]),
    low=bounds,
    high=bounds,
    reaches_back=bounds,
    values=st.lists(st.tuples(page_values, page_values, page_values), max_size=8),
    previously=st.none() | bounds.filter(bool).map(lambda since: Previously(since=since)),
    sweep=st.booleans(),
    remember_from=bounds,
    remember_updated_from=bounds,
    change_cursor=st.sampled_from([None, "date_updated"]),
)
def test_given_any_page_when_a_slice_takes_what_it_emits_then_each_record_as_emits_decides(
    time_field, low, high, reaches_back, values, previously, sweep, remember_from, remember_updated_from, change_cursor
):
    """``emitted`` takes a page at once (a full refresh's window, a first sync's one pass over the unfiltered list,
    and what a first sync remembers, are compared in one pass): the records ``emits`` takes one by one, in their
    order, and the versions it remembers."""

    def rules() -> SliceRules:
        return SliceRules(
            key_fields=("sid",),
            version_fields=(WHOLE_RECORD,),
            change_cursor=change_cursor,
            time_field=time_field,
            low=low,
            high=high,
            sweep=sweep,
            sweep_order=("date_created",) if sweep else (),
            reaches_back=reaches_back,
            previously=previously,
            remember_from=remember_from,
            remember_updated_from=remember_updated_from,
        )

    page = [
        {"sid": f"SM{index}", "date_sent": sent, "date_created": created, "date_updated": updated}
        for index, (sent, created, updated) in enumerate(values)
    ]
    one_by_one, at_once = rules(), rules()
    expected = [record for record in page if one_by_one.emits(record)]
    assert at_once.emitted(page) == expected
    assert at_once.versions == one_by_one.versions
