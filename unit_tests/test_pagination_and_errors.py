import io
import logging

import pytest
import requests
import urllib3
from airbyte_cdk.sources.streams.http.error_handlers import ResponseAction
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_twilio.answers import describe, read_body
from source_twilio.errors import AUTH_RETRIES, TwilioBackoffStrategy, TwilioErrorHandler
from source_twilio.pagination import is_whole_page, next_page_url, records_of, stalls

API = "https://api.twilio.com/2010-04-01/"
ALLOWED = {"https://api.twilio.com", "https://monitor.twilio.com"}
SID = "AC" + "1" * 32


def response(status: int, body: bytes | str = b"{}", headers: dict | None = None, url: str | None = None):
    built = requests.Response()
    built.status_code = status
    built._content = body.encode() if isinstance(body, str) else body
    built.headers.update(headers or {})
    built.request = requests.Request("GET", url or f"{API}Accounts/{SID}/Calls.json?PageSize=1000").prepare()
    return built


@pytest.mark.parametrize(
    "body, expected",
    [
        ({"calls": [], "next_page_uri": "/2010-04-01/Accounts/AC1/Calls.json?Page=1&PageToken=PAx"},
         "https://api.twilio.com/2010-04-01/Accounts/AC1/Calls.json?Page=1&PageToken=PAx"),
        ({"calls": [], "next_page_uri": None}, None),
        ({"alerts": [], "meta": {"next_page_url": "https://monitor.twilio.com/v1/Alerts?PageToken=PAy", "key": "alerts"}},
         "https://monitor.twilio.com/v1/Alerts?PageToken=PAy"),
        ({"alerts": [], "meta": {"next_page_url": None}}, None),
        ({"countries": []}, None),
    ],
)  # fmt: skip
def test_given_envelope_when_next_page_asked_then_absolute_url_or_none(body, expected):
    assert next_page_url(body, API, ALLOWED, "calls") == expected


@pytest.mark.parametrize(
    "link",
    [
        "https://evil.example.com/2010-04-01/Calls.json",
        "http://api.twilio.com/2010-04-01/Calls.json",
        "//evil.example.com/x",
    ],
)
def test_given_next_page_on_another_host_or_scheme_when_followed_then_refused(link):
    with pytest.raises(AirbyteTracedException) as raised:
        next_page_url({"next_page_uri": link}, API, ALLOWED, "calls")
    assert "not a Twilio host" in raised.value.message


ASKED = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?PageSize=2&Page=1&PageToken=PASM1"


@pytest.mark.parametrize(
    ("asked", "link", "records", "stalled"),
    [
        (ASKED, ASKED.replace("Page=1&PageToken=PASM1", "Page=2&PageToken=PASM3"), 2, False),  # Twilio's own
        (ASKED, ASKED.replace("Page=1&", "Page=2&"), 2, True),  # the token asked with, again
        (ASKED, ASKED, 2, True),  # the page itself
        (ASKED, ASKED.replace("PageSize=2&Page=1", "Page=1&PageSize=2"), 2, True),  # the same, in another order
        (ASKED, ASKED.replace("Page=1&PageToken=PASM1", "Page=2&PageToken=PASM3"), 0, True),  # from an empty page
        # a list paged by number alone (no token either way) goes on while its pages hold records
        (ASKED.split("&PageToken")[0], ASKED.split("&PageToken")[0].replace("Page=1", "Page=2"), 2, False),
        ("https://monitor.twilio.com/v1/Alerts?PageSize=2&Page=0", "https://monitor.twilio.com/v1/Alerts?PageSize=2&Page=1&PageToken=PAx", 2, False),
    ],
)  # fmt: skip
def test_given_a_next_page_link_when_checked_then_it_stalls_only_where_it_cannot_lead_past_the_page(
    asked, link, records, stalled
):
    assert stalls(asked, link, records) is stalled


UNSIZED = "https://api.twilio.com/2010-04-01/Accounts/AC1/Queues.json"


@pytest.mark.parametrize(
    ("body", "asked", "records", "whole"),
    [
        ({"page_size": 2}, ASKED, 2, True),
        ({"page_size": 50}, ASKED, 2, False),  # Twilio's own page size rules over the one asked for
        ({"meta": {"page_size": 2}}, UNSIZED, 2, True),
        ({}, ASKED, 2, True),  # no page size in the answer: the one asked for
        ({}, ASKED, 1, False),
        ({"page_size": True}, ASKED, 2, True),  # not a size: the one asked for
        ({"page_size": True}, UNSIZED, 2, False),  # no size at all: never taken for whole
        ([], ASKED, 2, True),
    ],
)
def test_given_a_page_when_its_size_is_checked_then_whole_where_it_holds_a_page_size_of_records(
    body, asked, records, whole
):
    assert is_whole_page(body, asked, records) is whole


def test_given_monitor_envelope_when_records_read_then_meta_key_names_the_list():
    assert records_of({"meta": {"key": "alerts"}, "alerts": [{"sid": "NO1"}]}, "ignored") == [{"sid": "NO1"}]
    assert records_of({"calls": [{"sid": "CA1"}]}, "calls") == [{"sid": "CA1"}]
    assert records_of({"other": []}, "calls") is None


@pytest.mark.parametrize(
    "status, body, action",
    [
        (200, '{"calls": []}', ResponseAction.SUCCESS),
        (200, '{"calls": [', ResponseAction.RETRY),  # a truncated body
        (429, '{"code": 20429}', ResponseAction.RATE_LIMITED),
        (500, '{"code": 20500}', ResponseAction.RETRY),
        (503, "<html><body>Service Unavailable</body></html>", ResponseAction.RETRY),
        (400, '{"code": 20001, "message": "bad"}', ResponseAction.FAIL),
        (400, '{"code": 20004, "message": "outside of retention window"}', ResponseAction.IGNORE),  # narrowed
        (400, '{"code": 20001, "message": "data is limited to 10,000 results"}', ResponseAction.IGNORE),  # split
        (404, '{"code": 20404}', ResponseAction.FAIL),
    ],
)
def test_given_twilio_answer_when_interpreted_then_action(status, body, action):
    handler = TwilioErrorHandler("calls", ignore_404=False, logger=logging.getLogger())
    assert handler.interpret_response(response(status, body)).response_action is action


def test_given_404_where_it_means_no_data_when_interpreted_then_ignored():
    handler = TwilioErrorHandler("usage_records", ignore_404=True, logger=logging.getLogger())
    assert handler.interpret_response(response(404, '{"code": 20404}')).response_action is ResponseAction.IGNORE


def test_given_401_when_repeated_then_retried_for_over_30_seconds_then_handed_to_the_stream():
    handler = TwilioErrorHandler("calls", ignore_404=False, logger=logging.getLogger())
    strategy = TwilioBackoffStrategy()
    actions, waited = [], 0.0
    for attempt in range(1, AUTH_RETRIES + 2):
        refused = response(401, '{"code": 20003}')
        actions.append(handler.interpret_response(refused).response_action)
        if actions[-1] is ResponseAction.RETRY:
            waited += strategy.backoff_time(refused, attempt_count=attempt)
    assert actions == [ResponseAction.RETRY] * AUTH_RETRIES + [ResponseAction.IGNORE]
    assert waited >= 30, "a burst of transient 401s must not skip an account"


def test_given_connection_error_when_interpreted_then_retried():
    handler = TwilioErrorHandler("calls", ignore_404=False, logger=logging.getLogger())
    assert handler.interpret_response(requests.ConnectionError("reset")).response_action is ResponseAction.RETRY


def test_given_retry_after_when_backing_off_then_it_is_used_else_exponential_capped():
    strategy = TwilioBackoffStrategy()
    assert strategy.backoff_time(response(429, headers={"Retry-After": "12"}), attempt_count=1) == 12
    waits = [strategy.backoff_time(response(503), attempt_count=n) for n in range(1, 12)]
    assert waits[0] <= 0.5 and max(waits) <= 60 and waits[8] > waits[1]


def test_given_twilio_error_body_when_described_then_code_message_and_link():
    text = describe(response(400, '{"code": 20004, "message": "Date range outside retention", "status": 400}'))
    assert (
        text == "HTTP 400, Twilio code 20004: Date range outside retention (https://www.twilio.com/docs/errors/20004)"
    )
    assert describe(response(502, "<html><h1>502 Bad Gateway</h1></html>")) == "HTTP 502: 502 Bad Gateway"


class _CountingBody(io.BytesIO):
    """A response body that counts the reads asked of it, and can break off partway as a reset connection does."""

    def __init__(self, data: bytes, fail_after: int | None = None) -> None:
        super().__init__(data)
        self.reads = 0
        self._fail_after = fail_after

    def read(self, size: int | None = -1) -> bytes:  # type: ignore[override]
        self.reads += 1
        if self._fail_after is not None and self.tell() >= self._fail_after:
            raise urllib3.exceptions.ProtocolError("Connection broken: reset by peer")
        return super().read(size)


def _streamed_response(body: _CountingBody) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response.raw = urllib3.HTTPResponse(body=body, preload_content=False, headers={"Content-Length": "2000000"})
    return response


def test_given_a_page_of_a_megabyte_when_its_body_is_read_then_it_takes_a_few_reads_not_a_hundred():
    """requests reads a body 10 KB at a time, each through urllib3's and http.client's layers: a hundred trips
    for a page of 1,000 records, about 2 ms of CPU per page more than a few reads of a megabyte."""
    data = b"x" * 2_000_000
    body = _CountingBody(data)
    response = _streamed_response(body)
    read_body(response)
    assert response.content == data
    assert body.reads <= 4, body.reads


def test_given_a_body_broken_off_when_it_is_read_then_the_error_is_requests_own_which_the_cdk_retries():
    response = _streamed_response(_CountingBody(b"x" * 2_000_000, fail_after=1_000_000))
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        read_body(response)
