"""The HTTP side of a Twilio list: how its requests are made and its answers read, page by page.

``TwilioList`` says what the CDK's ``HttpStream`` asks of one request (path, parameters, headers, the next page)
and turns an answer into records (checked, converted, secrets masked). Which requests a sync makes, and what it
emits of their records, is ``streams.TwilioStream``'s.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping
from functools import cached_property
from itertools import chain
from typing import Any

import requests
from airbyte_cdk.models import FailureType, SyncMode
from airbyte_cdk.sources.message import InMemoryMessageRepository
from airbyte_cdk.sources.streams.http import HttpClient, HttpStream
from airbyte_cdk.sources.types import StreamSlice
from airbyte_cdk.sources.utils.schema_helpers import ResourceSchemaLoader
from airbyte_cdk.utils.airbyte_secrets_utils import add_to_secrets
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_twilio.answers import TwilioApiError, body_size, json_body
from source_twilio.context import SyncContext
from source_twilio.conversion import RecordConverter, to_datetime
from source_twilio.credentials import ACCOUNT_HEADER
from source_twilio.definitions import ACCOUNT_TOKEN, StreamDefinition
from source_twilio.errors import TwilioBackoffStrategy, TwilioErrorHandler
from source_twilio.pagination import NEXT_URL, is_whole_page, next_page_url, records_of, stalls
from source_twilio.planning import SWEEP, WHOLE
from source_twilio.reader import ListFailed, RangeTooLong
from source_twilio.windows import Window

PAGE_SIZE = 1000  # at most: a list may allow fewer (``StreamDefinition.page_size``)
REQUEST_TIMEOUT = (15, 120)  # seconds to connect, seconds between bytes of the answer

Record = MutableMapping[str, Any]

ONE_PAGE = "_twilio_one_page"
"""In a slice's cursor: the request is a probe, whose range must fit in one page (else ``RangeTooLong``)."""


class TwilioList(HttpStream):
    """One Twilio list's requests and answers."""

    def __init__(self, definition: StreamDefinition, context: SyncContext) -> None:
        self.definition = definition
        self.context = context
        self._bytes_per_record = 1000.0  # of the pages read last: what an emitted record is estimated to cost
        super().__init__(authenticator=context.authenticator)
        # Every stream sends through the sync's one session, whose adapter enforces the per-account limit.
        self._http_client = HttpClient(
            name=self.name,
            logger=self.logger,
            error_handler=self.get_error_handler(),
            session=context.session,
            authenticator=context.authenticator,
            backoff_strategy=self.get_backoff_strategy(),
            message_repository=InMemoryMessageRepository(),
            request_timeout=REQUEST_TIMEOUT,
        )

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def primary_key(self) -> list[str]:
        return self.definition.primary_key

    @property
    def url_base(self) -> str:
        return self.context.base_url(self.definition.host)

    def get_json_schema(self) -> Mapping[str, Any]:
        return _schema(self.name)

    @cached_property
    def converter(self) -> RecordConverter:
        return RecordConverter(self.get_json_schema(), drop_fields=self.definition.drop_fields)

    # --- errors ---------------------------------------------------------------------------------------

    def get_error_handler(self) -> TwilioErrorHandler:
        return TwilioErrorHandler(
            self.definition.name, self.definition.ignore_404, self.logger, feature=self.definition.feature
        )

    def get_backoff_strategy(self) -> TwilioBackoffStrategy:
        return TwilioBackoffStrategy()

    # --- requests -------------------------------------------------------------------------------------

    def _pages(self, partition: Mapping[str, Any], cursor_slice: Mapping[str, Any]) -> Iterable[list[Record]]:
        """The list's pages of records, in order, each asked for once the ones before it are taken: the CDK's read
        loop carries whole pages (``parse_response``), and so does this stream's code after it. Carried one by one,
        each record passed through five more generators (2.5% of a 60,000-message read's instructions: 5.56 against
        5.42 G)."""
        stream_slice = StreamSlice(partition=dict(partition), cursor_slice=dict(cursor_slice))
        return super().read_records(SyncMode.full_refresh, None, stream_slice, None)  # type: ignore[return-value]

    def _records_of(self, partition: Mapping[str, Any], cursor_slice: Mapping[str, Any]) -> Iterable[Record]:
        """The list's records, in order (``_pages``, one record at a time)."""
        return chain.from_iterable(self._pages(partition, cursor_slice))

    def request_kwargs(
        self, stream_state: Any = None, stream_slice: Any = None, next_page_token: Any = None
    ) -> Mapping[str, Any]:
        # Twilio's lists never redirect; following one could take a request (without credentials) elsewhere.
        return {"allow_redirects": False}

    def path(self, *, stream_state: Any = None, stream_slice: Any = None, next_page_token: Any = None) -> str:
        if next_page_token:
            return next_page_token[NEXT_URL]
        return self.definition.path.format_map(stream_slice.partition if stream_slice else {})

    def request_headers(
        self, stream_state: Any = None, stream_slice: Any = None, next_page_token: Any = None
    ) -> Mapping[str, Any]:
        account_sid = stream_slice.partition.get("account_sid") if stream_slice else None
        return {ACCOUNT_HEADER: account_sid} if self.definition.own_credentials and account_sid else {}

    def request_params(
        self, stream_state: Any = None, stream_slice: Any = None, next_page_token: Any = None
    ) -> MutableMapping[str, Any]:
        if next_page_token:
            return {}  # the next-page link carries every filter already
        params: dict[str, Any] = {}
        if self.definition.paged:
            params["PageSize"] = min(self.definition.page_size, PAGE_SIZE)
        params.update(self.definition.params)
        if stream_slice:
            params.update(stream_slice.partition.get("params", {}))
            params.update(stream_slice.cursor_slice.get("sweep_params", {}))
            if "start" in stream_slice.cursor_slice and self.definition.time_filter:
                params.update(self.definition.time_filter.params(Window.from_slice(stream_slice.cursor_slice)))
        return params

    def next_page_token(self, response: requests.Response) -> Mapping[str, Any] | None:
        if response.status_code != 200 or not self.definition.paged or getattr(response, _PAST_REACH, False):
            return None
        body = json_body(response)
        url = next_page_url(body, self.url_base, self.context.config.allowed_hosts, self.name)
        if not url:
            return None
        asked, records = response.request.url or "", len(records_of(body, self.definition.list_key) or ())
        if stalls(asked, url, records):
            return self._stalled(asked, body, records)
        if getattr(response, ONE_PAGE, False):
            raise RangeTooLong
        return {NEXT_URL: url}

    def _stalled(self, asked: str, body: Any, records: int) -> None:
        """A next-page link that leads nowhere new (``pagination.stalls``) is not followed. After a page shorter than
        a page may be, the list is whole; after a whole one, Twilio may hold more that no link reaches: the list
        fails, and the next sync reads it again from where this one started."""
        if is_whole_page(body, asked, records):
            raise ListFailed(
                f"Twilio's next-page link after {records} records repeats the page it came from ({asked}), so "
                "the rest of the list cannot be read",
                FailureType.system_error,
            )
        self.context.warn_once(
            f"{self.name}: Twilio gave a next-page link that leads nowhere new (from an empty page, or to the page it "
            "came from); it was not followed, as the page it came from was the list's last."
        )

    def parse_response(
        self, response: requests.Response, *, stream_slice: Any = None, **kwargs: Any
    ) -> Iterable[list[Record]]:
        """The page's records, converted, as one list: the CDK's read loop carries pages (see ``_pages``)."""
        if response.status_code in (400, 401, 403):
            raise TwilioApiError(response)
        if response.status_code != 200:
            return  # an ignored 404: no data here
        yield self._records(response, stream_slice)

    def _records(self, response: requests.Response, stream_slice: Any) -> list[Record]:
        body = json_body(response)
        records = (
            [body] if self.definition.single and isinstance(body, dict) else records_of(body, self.definition.list_key)
        )
        if records:
            self._bytes_per_record = body_size(response) / len(records)
        if records is None:
            raise AirbyteTracedException(
                message=(
                    f"Stream {self.name}: Twilio's answer has no '{self.definition.list_key}' list; "
                    "the API may have changed. Please report this."
                ),
                internal_message=f"missing list key in {response.request.url}",
                failure_type=FailureType.system_error,
            )
        if stream_slice and stream_slice.cursor_slice.get(ONE_PAGE):
            setattr(response, ONE_PAGE, True)
        swept = stream_slice.cursor_slice.get(SWEEP) if stream_slice else None
        if swept:
            if self._reaches_past(records, stream_slice.cursor_slice["reach"]):
                setattr(response, _PAST_REACH, True)  # the list is newest first: no later page is within reach
            if not stream_slice.cursor_slice.get(WHOLE):  # only the records whose field is null: skip the others
                records = [record for record in records if record.get(swept) is None]
        convert = self.converter
        add_account = self.definition.add_account_sid
        secret_fields = self.definition.drop_fields
        if add_account or secret_fields:  # most lists need neither: no look at each record before converting it
            account_sid = stream_slice.partition.get("account_sid") if stream_slice else None
            for record in records:
                if add_account and record.get("account_sid") is None:
                    record["account_sid"] = account_sid
                for name in secret_fields:  # dropped by the converter; masked too, should anything log the page
                    if record.get(name):
                        add_to_secrets(str(record[name]))
                if ACCOUNT_TOKEN in secret_fields and record.get(ACCOUNT_TOKEN) and record.get("sid"):
                    self.context.authenticator.learn(record["sid"], str(record[ACCOUNT_TOKEN]))
        return list(map(convert, records))

    def _reaches_past(self, records: list[Record], reach: str) -> bool:
        """Whether a sweep's page holds a record older than its reach, by the list's order (see ``Sweep``)."""
        time_filter = self.definition.time_filter
        order = time_filter.sweep.order if time_filter and time_filter.sweep else ()
        for record in reversed(records):  # newest first: the oldest is last
            value = next((record.get(name) for name in order if record.get(name)), None)
            if value is not None:
                converted = to_datetime(value)
                return isinstance(converted, str) and converted[:1].isdigit() and converted < reach
        return False


_PAST_REACH = "_twilio_past_sweep_reach"


_SCHEMAS: dict[str, Mapping[str, Any]] = {}


def _schema(name: str) -> Mapping[str, Any]:
    if name not in _SCHEMAS:
        _SCHEMAS[name] = ResourceSchemaLoader("source_twilio").get_schema(name)
    return _SCHEMAS[name]
