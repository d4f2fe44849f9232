"""The one stream class, driven by a ``StreamDefinition``: slices, requests, pages, records and state.

A slice is the unit of work and of checkpointing. Its ``partition`` says which list it reads (the
account, and a conference Status where Twilio splits the list); its ``cursor_slice`` which part: a time
``window``, or the ``sweep`` of records whose filtered field is still null (Twilio's date filters never
match those: queued messages have no ``date_sent``, queued calls no ``start_time``). A child stream
(media, participants, dependent numbers, available numbers) has the slices of its parent and reads,
within a slice, the children of each parent record that can have any.

Incremental reads start ``lookback`` before the partition's cursor and emit a record read again only if
it changed since the previous sync: its ``date_updated`` is not earlier than that sync's cursor. The
cursor moves to a window's end once the whole window has been emitted.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

import requests
from airbyte_cdk.models import FailureType, SyncMode
from airbyte_cdk.sources.message import InMemoryMessageRepository
from airbyte_cdk.sources.streams import CheckpointMixin
from airbyte_cdk.sources.streams.http import HttpClient, HttpStream
from airbyte_cdk.sources.types import StreamSlice
from airbyte_cdk.sources.utils.schema_helpers import ResourceSchemaLoader
from airbyte_cdk.utils.airbyte_secrets_utils import add_to_secrets
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_twilio.accounts import AccountDirectory
from source_twilio.concurrency import AccountLimitedAdapter, AccountLimiter, SlicePipeline, interleave, ordered_map
from source_twilio.config import TwilioConfig
from source_twilio.conversion import RecordConverter
from source_twilio.definitions import BY_NAME, Host, Scope, StreamDefinition
from source_twilio.errors import TwilioApiError, TwilioBackoffStrategy, TwilioErrorHandler, describe, json_body
from source_twilio.pagination import NEXT_URL, next_page_url, records_of
from source_twilio.state import StreamState, digest, partition_key
from source_twilio.timeutil import format_date, format_datetime
from source_twilio.windows import Granularity, Window, floor_to_second, plan_windows

PAGE_SIZE = 1000
READ_AHEAD_SLICES = 16  # each holds about a page (1000 records) in memory; children have their own pool
REQUEST_TIMEOUT = (15, 120)  # seconds to connect, seconds between bytes of the answer
HOST_PATHS = {Host.API: "/2010-04-01/", Host.MONITOR: "/v1/"}
# Twilio checks retention against its own clock at request time: stay clear of the edge.
RETENTION_MARGIN = timedelta(hours=1)
SWEEP = "sweep"

Record = MutableMapping[str, Any]
RecordTest = Callable[[Mapping[str, Any]], bool]


@dataclass
class SyncContext:
    """What the streams of one sync share: the accounts, one HTTP session with its per-account limit,
    and the worker pools (slices of a stream read ahead; children of a slice's parents)."""

    config: TwilioConfig
    authenticator: requests.auth.AuthBase
    now: datetime
    accounts: AccountDirectory = field(init=False)

    @cached_property
    def limiter(self) -> AccountLimiter:
        return AccountLimiter(ceiling=self.config.num_workers)

    @cached_property
    def session(self) -> requests.Session:
        session = requests.Session()
        adapter = AccountLimitedAdapter(self.limiter, self.config.account_sid, total=self.config.num_workers)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

    @cached_property
    def slice_pool(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(self.config.num_workers, thread_name_prefix="slice")

    @cached_property
    def child_pool(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(self.config.num_workers, thread_name_prefix="child")

    def base_url(self, host: Host) -> str:
        base = self.config.monitor_base if host is Host.MONITOR else self.config.api_base
        return base + HOST_PATHS[host]

    def new_stream(self, definition: StreamDefinition) -> TwilioStream:
        return TwilioStream(definition, self)


class TwilioStream(HttpStream, CheckpointMixin):
    """Any Twilio list, read per account (or per parent record), page by page, window by window."""

    def __init__(self, definition: StreamDefinition, context: SyncContext) -> None:
        self.definition = definition
        self.context = context
        self._state = StreamState()
        self._previous = StreamState()  # the state this sync started from: what "seen before" means
        self._pipeline = SlicePipeline(context.slice_pool, depth=min(context.config.num_workers, READ_AHEAD_SLICES))
        self._failures: dict[str, tuple[str, FailureType]] = {}  # partition key -> why it failed, this sync
        self._given_up: set[str] = set()  # lists a worker gave up on (the CDK's loop may not have seen it yet)
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

    # --- identity -------------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def primary_key(self) -> list[str]:
        return self.definition.primary_key

    @property
    def cursor_field(self) -> str | list[str]:
        return self.definition.cursor_field or []

    @property
    def supports_incremental(self) -> bool:
        return self.definition.incremental

    @property
    def url_base(self) -> str:
        return self.context.base_url(self.definition.host)

    def get_json_schema(self) -> Mapping[str, Any]:
        return _schema(self.name)

    @cached_property
    def converter(self) -> RecordConverter:
        return RecordConverter(self.get_json_schema(), drop_fields=self.definition.drop_fields)

    @cached_property
    def parent(self) -> TwilioStream | None:
        child_of = self.definition.child_of
        return self.context.new_stream(BY_NAME[child_of.parent]) if child_of else None

    @property
    def slicing(self) -> StreamDefinition:
        """The definition whose lists and windows make this stream's slices: the parent's, for a child."""
        return self.parent.definition if self.parent else self.definition

    # --- state ----------------------------------------------------------------------------------------

    @property
    def state(self) -> MutableMapping[str, Any]:
        return self._state.to_json()

    @state.setter
    def state(self, value: MutableMapping[str, Any]) -> None:
        self._state = StreamState.from_json(value, self.name)
        self._previous = StreamState.from_json(value, self.name)

    # --- errors ---------------------------------------------------------------------------------------

    def get_error_handler(self) -> TwilioErrorHandler:
        return TwilioErrorHandler(self.definition.name, self.definition.ignore_404, self.logger)

    def get_backoff_strategy(self) -> TwilioBackoffStrategy:
        return TwilioBackoffStrategy()

    # --- slices ---------------------------------------------------------------------------------------

    def stream_slices(
        self, sync_mode: SyncMode = SyncMode.full_refresh, cursor_field: Any = None, stream_state: Any = None
    ) -> Iterable[StreamSlice]:
        """The slices, each already being read in a worker while the CDK emits the ones before it."""
        incremental = sync_mode == SyncMode.incremental
        self._failures.clear()
        self._given_up.clear()
        # Accounts take turns, so that slices read ahead spread over the accounts' separate Twilio limits.
        # Each account's own slices stay in order, as its cursor needs.
        slices = interleave(list(self._slices_of(partition, incremental)) for partition in self._partitions())
        yield from self._pipeline.run_ahead(slices, _slice_key, lambda s: self._records_of(s, incremental))
        if self._failures:
            # After the last slice, so that every other list was read and checkpointed first. Transient only
            # if every failure was (exhausted retries); an answer Twilio will not change is a system error.
            failed = "; ".join(
                f"{describe_partition_key(key)}: {detail}" for key, (detail, _) in self._failures.items()
            )
            kinds = {kind for _, kind in self._failures.values()}
            raise AirbyteTracedException(
                message=(
                    f"Stream {self.name} is incomplete: Twilio did not serve {len(self._failures)} of its lists ({failed}). "
                    "Everything else was synced; the next sync starts again where these lists stopped."
                ),
                internal_message=failed,
                failure_type=FailureType.transient_error
                if kinds == {FailureType.transient_error}
                else FailureType.system_error,
            )

    def _partitions(self) -> Iterator[dict[str, Any]]:
        definition = self.slicing
        if definition.scope is Scope.ROOT:
            account_sids = [self.context.config.account_sid]
        else:
            account_sids = self.context.accounts.readable()
        wanted = self.definition.child_of.parent_partitions if self.definition.child_of else None
        for account_sid in account_sids:
            for params in definition.partitions:
                if wanted is None or params in wanted:
                    yield {"account_sid": account_sid, **({"params": params} if params else {})}

    def _slices_of(self, partition: dict[str, Any], incremental: bool) -> Iterator[StreamSlice]:
        time_filter = self.slicing.time_filter
        if time_filter is None:
            yield StreamSlice(partition=partition, cursor_slice={})
            return
        # The sweep comes first: the cursor moves only with windows, so once it has moved the sweep is done.
        if time_filter.nullable:
            yield StreamSlice(partition=partition, cursor_slice={SWEEP: time_filter.field})
        start = self._start_of(partition, incremental)
        whole_days = time_filter.granularity is Granularity.DATES
        for window in plan_windows(start, self.context.now, time_filter.window, whole_days=whole_days):
            yield StreamSlice(partition=partition, cursor_slice=window.as_slice())

    def _start_of(self, partition: Mapping[str, Any], incremental: bool) -> datetime:
        time_filter = self.slicing.time_filter
        assert time_filter is not None
        start = self.context.config.start_date
        created = self.context.accounts.created(partition.get("account_sid", ""))
        if created is not None:
            start = max(start, floor_to_second(created))
        cursor = self._previous.cursor(partition_key(partition)) if incremental else None
        if cursor is not None:
            start = max(start, cursor - self.context.config.lookback)
        if time_filter.retention is not None:
            floor = floor_to_second(self.context.now - time_filter.retention + RETENTION_MARGIN)
            if start < floor:
                self.logger.warning(
                    f"{self.name} of {partition.get('account_sid')}: Twilio keeps {time_filter.retention.days} days of "
                    f"this data and refuses older ranges; reading from {format_datetime(floor)} instead of "
                    f"{format_datetime(start)}."
                )
                start = floor
        return start

    # --- requests -------------------------------------------------------------------------------------

    def request_kwargs(
        self, stream_state: Any = None, stream_slice: Any = None, next_page_token: Any = None
    ) -> Mapping[str, Any]:
        # Twilio's lists never redirect; following one could take a request (without credentials) elsewhere.
        return {"allow_redirects": False}

    def path(self, *, stream_state: Any = None, stream_slice: Any = None, next_page_token: Any = None) -> str:
        if next_page_token:
            return next_page_token[NEXT_URL]
        return self.definition.path.format_map(stream_slice.partition if stream_slice else {})

    def request_params(
        self, stream_state: Any = None, stream_slice: Any = None, next_page_token: Any = None
    ) -> MutableMapping[str, Any]:
        if next_page_token:
            return {}  # the next-page link carries every filter already
        params: dict[str, Any] = {}
        if self.definition.paged:
            params["PageSize"] = PAGE_SIZE
        params.update(self.definition.params)
        if stream_slice and not self.parent:
            params.update(stream_slice.partition.get("params", {}))
            if "start" in stream_slice.cursor_slice and self.definition.time_filter:
                params.update(self.definition.time_filter.params(Window.from_slice(stream_slice.cursor_slice)))
        return params

    def next_page_token(self, response: requests.Response) -> Mapping[str, Any] | None:
        if response.status_code != 200 or not self.definition.paged:
            return None
        url = next_page_url(json_body(response), self.url_base, self.context.config.allowed_hosts, self.name)
        return {NEXT_URL: url} if url else None

    # --- records --------------------------------------------------------------------------------------

    def read_records(
        self,
        sync_mode: SyncMode,
        cursor_field: Any = None,
        stream_slice: Any = None,
        stream_state: Any = None,
    ) -> Iterable[Record]:
        stream_slice = stream_slice or StreamSlice(partition={}, cursor_slice={})
        incremental = sync_mode == SyncMode.incremental
        key = partition_key(stream_slice.partition)
        prefetched = self._pipeline.take(_slice_key(stream_slice))
        if key in self._failures:  # the list failed earlier in this sync: its later windows would leave a gap
            if prefetched is not None:
                prefetched.close()
            return
        items = prefetched or self._records_of(stream_slice, incremental)
        try:
            for item in items:
                if isinstance(item, Commit):
                    item.apply()  # state that may move only once the records before it are emitted
                else:
                    yield item
        except TwilioApiError as error:
            self._on_refusal(error)
            return
        except AirbyteTracedException as error:
            if error.failure_type == FailureType.config_error:
                raise
            self._failures[key] = (failure_detail(error), error.failure_type or FailureType.system_error)
            self.logger.error(
                f"Stream {self.name}: could not read {describe_partition(stream_slice.partition)}: {self._failures[key][0]}"
            )
            return
        account_sid = stream_slice.partition.get("account_sid")
        if account_sid and self.context.accounts.is_refused(account_sid):
            return  # nothing was read for it: its cursor stays where the last sync that could read it left it
        if incremental and "start" in stream_slice.cursor_slice:
            window_end = Window.from_slice(stream_slice.cursor_slice).end
            self._state.advance(partition_key(stream_slice.partition), min(window_end, self.context.now))

    def _records_of(self, stream_slice: StreamSlice, incremental: bool) -> Iterator[Record | Commit]:
        """A slice's records (and state commits), read where the caller runs: a worker or the CDK's thread."""
        account_sid = stream_slice.partition.get("account_sid")
        key = partition_key(stream_slice.partition)
        if (account_sid and self.context.accounts.is_refused(account_sid)) or key in self._given_up:
            return iter(())
        records = (
            self._read_children(stream_slice, incremental)
            if self.parent
            else self._read_list(stream_slice, incremental)
        )
        return self._giving_up_on_failure(records, key)

    def _giving_up_on_failure(self, records: Iterator[Record | Commit], key: str) -> Iterator[Record | Commit]:
        """Marks a list failed as soon as a worker gives up on it, so its later windows are not started."""
        try:
            yield from records
        except AirbyteTracedException as error:
            if error.failure_type != FailureType.config_error:
                self._given_up.add(key)
            raise

    def _read_list(self, stream_slice: StreamSlice, incremental: bool) -> Iterator[Record | Commit]:
        key = partition_key(stream_slice.partition)
        if incremental and self.definition.change_fields:
            yield from self._read_by_digest(stream_slice, key)
            return
        seen = self._seen_before(key) if incremental else None
        for record in self._pages(stream_slice):
            if seen is None or seen.changed(record):
                yield record

    def _read_children(self, stream_slice: StreamSlice, incremental: bool) -> Iterator[Record]:
        child_of = self.definition.child_of
        assert child_of is not None and self.parent is not None
        seen = self._seen_before(partition_key(stream_slice.partition)) if incremental else None
        account_sid = stream_slice.partition.get("account_sid")
        # Children are asked for again only where the parent changed, and emitted only if they did.
        parents = (
            parent
            # Read directly, not through read_records: a parent list that fails must fail this slice too.
            for parent in self.parent._records_of(stream_slice, incremental=False)
            if child_of.has_children(parent) and (seen is None or seen.changed(parent))
        )

        def children_of(parent: Mapping[str, Any]) -> list[Record]:
            path_values = {name: parent.get(source) for name, source in child_of.path_fields.items()}
            return list(
                self._pages(StreamSlice(partition={"account_sid": account_sid, **path_values}, cursor_slice={}))
            )

        ahead = self.context.config.num_workers
        for children in ordered_map(self.context.child_pool, children_of, parents, ahead):
            for record in children:
                if seen is None or seen.updated(record):
                    yield record

    def _seen_before(self, key: str) -> SeenBefore | None:
        previous = self._previous.cursor(key)
        if previous is None:
            return None
        time_filter = self.slicing.time_filter
        return SeenBefore(previous, time_filter.field if time_filter else None, self.definition.cursor_field)

    def _read_by_digest(self, stream_slice: StreamSlice, key: str) -> Iterator[Record | Commit]:
        """Usage records have no date_updated: one changed if its values differ from the previous sync's.
        The state keeps a short digest of each record still inside the lookback, by day and category."""
        known = self._previous.digests.get(key, {})
        fields = self.definition.change_fields
        values: dict[str, str] = {}
        for record in self._pages(stream_slice):
            name = f"{record.get('start_date')}|{record.get('category')}"
            values[name] = digest(tuple(record.get(part) for part in fields))
            if known.get(name) != values[name]:
                yield record
        yield Commit(lambda: self._keep_digests(key, values))

    def _keep_digests(self, key: str, values: dict[str, str]) -> None:
        """Remember the values of the records the next sync will read again: the days inside the lookback."""
        oldest = format_date((self.context.now - self.context.config.lookback).date())
        kept = {
            name: value
            for name, value in {**self._state.digests.get(key, {}), **values}.items()
            if _record_day(name) >= oldest
        }
        if kept:
            self._state.digests[key] = kept
        else:
            self._state.digests.pop(key, None)

    def _pages(self, stream_slice: StreamSlice) -> Iterable[Record]:
        return super().read_records(SyncMode.full_refresh, None, stream_slice, None)

    def parse_response(
        self, response: requests.Response, *, stream_slice: Any = None, **kwargs: Any
    ) -> Iterable[Record]:
        if response.status_code in (401, 403):
            raise TwilioApiError(response)
        if response.status_code != 200:
            return  # an ignored 404: no data here
        records = records_of(json_body(response), self.definition.list_key)
        if records is None:
            raise AirbyteTracedException(
                message=(
                    f"Stream {self.name}: Twilio's answer has no '{self.definition.list_key}' list; "
                    "the API may have changed. Please report this."
                ),
                internal_message=f"missing list key in {response.request.url}",
                failure_type=FailureType.system_error,
            )
        keep = self._window_test(stream_slice)
        if stream_slice and SWEEP in stream_slice.cursor_slice and keep is not None:
            records = [record for record in records if keep(record)]  # nulls are nulls unconverted: skip the rest early
            keep = None
        account_sid = stream_slice.partition.get("account_sid") if stream_slice else None
        convert = self.converter
        add_account = self.definition.add_account_sid
        secret_fields = self.definition.drop_fields
        for record in records:
            if add_account and record.get("account_sid") is None:
                record["account_sid"] = account_sid
            for name in secret_fields:  # dropped below; masked too, should anything log the page
                if record.get(name):
                    add_to_secrets(str(record[name]))
            record = convert(record)
            if keep is None or keep(record):
                yield record

    # --- which records a slice emits ------------------------------------------------------------------

    def _window_test(self, stream_slice: StreamSlice | None) -> RecordTest | None:
        """Drops what the request returns beyond the slice: coarse filters, inclusive ends, filled-in fields."""
        time_filter = self.definition.time_filter
        if not stream_slice or time_filter is None:
            return None
        field_name = time_filter.field
        if SWEEP in stream_slice.cursor_slice:
            return lambda record: record.get(field_name) is None
        window = Window.from_slice(stream_slice.cursor_slice)
        if time_filter.granularity is Granularity.DATES:
            low, high = format_date(window.start.date()), format_date(window.end.date())
        else:
            low, high = format_datetime(window.start), format_datetime(window.end)
        return lambda record: _within(record.get(field_name), low, high)

    def _on_refusal(self, error: TwilioApiError) -> None:
        account_sid = error.account_sid
        config = self.context.config
        if account_sid is None or account_sid == config.account_sid:
            raise AirbyteTracedException(
                message=credentials_message(config, str(error), f"stream {self.name}"),
                internal_message=str(error),
                failure_type=FailureType.config_error,
            )
        self.context.accounts.refuse(account_sid, str(error))


@dataclass(frozen=True)
class Commit:
    """A change to the state that a slice's reader hands to the emitting thread, after the slice's records."""

    apply: Callable[[], None]


def _slice_key(stream_slice: StreamSlice) -> str:
    return json.dumps([stream_slice.partition, stream_slice.cursor_slice], sort_keys=True)


@dataclass(frozen=True)
class SeenBefore:
    """What the previous sync, which started at ``since``, has emitted of a partition.

    It read every record whose filtered field was before ``since`` (and those whose field was null), as
    they were then. A record read again changed since if its cursor (``date_updated``) is at or after
    ``since``; one whose field is at or after ``since`` was out of that sync's reach and is emitted
    whatever its cursor says. The same second counts as after: Twilio truncates timestamps to seconds.
    """

    since_instant: datetime
    field: str | None
    cursor: str | None

    @cached_property
    def since(self) -> str:
        return format_datetime(self.since_instant)

    def beyond_reach(self, record: Mapping[str, Any]) -> bool:
        value = record.get(self.field) if self.field else None
        return isinstance(value, str) and value >= self.since

    def updated(self, record: Mapping[str, Any]) -> bool:
        value = record.get(self.cursor) if self.cursor else None
        return not isinstance(value, str) or value >= self.since

    def changed(self, record: Mapping[str, Any]) -> bool:
        return self.beyond_reach(record) or self.updated(record)


def failure_detail(error: AirbyteTracedException) -> str:
    """Twilio's own answer where the CDK kept it (the last response of an exhausted retry), else the message."""
    cause = getattr(error, "_exception", None) or error.__cause__
    response = getattr(cause, "response", None)
    if isinstance(response, requests.Response):
        return f"{describe(response)}, after retries"
    if isinstance(response, Exception):
        return f"{type(response).__name__} ({response}), after retries"
    return error.message or str(error)


def describe_partition(partition: Mapping[str, Any]) -> str:
    return describe_partition_key(partition_key(partition))


def describe_partition_key(key: str) -> str:
    account, _, params = key.partition("/")
    return f"account {account}" + (f" ({params.replace('/', ', ')})" if params else "")


def _within(value: Any, low: str, high: str) -> bool:
    # ISO 8601 UTC strings of one shape sort like the instants they name. A value that could not be
    # converted is kept: Twilio's own filter put it in this window.
    if not isinstance(value, str) or not value[:1].isdigit():
        return True
    return low <= value < high


def _record_day(record_name: str) -> str:
    """The day of a usage record's digest name (start_date|category)."""
    return record_name.split("|", 1)[0]


def credentials_message(config: TwilioConfig, detail: str, where: str) -> str:
    if config.auth_type == "api_key":
        return (
            f"Twilio refused the API key {config.username} for {where} ({detail}). Check the key SID and secret; "
            "a Standard API key cannot read /Accounts or /Keys, and an API key reaches only its own account: "
            "use a Main API key or the account's Auth Token."
        )
    return (
        f"Twilio rejected the Account SID {config.account_sid} and Auth Token for {where} ({detail}): "
        "check both in the Twilio Console (Account Info)."
    )


_SCHEMAS: dict[str, Mapping[str, Any]] = {}


def _schema(name: str) -> Mapping[str, Any]:
    if name not in _SCHEMAS:
        _SCHEMAS[name] = ResourceSchemaLoader("source_twilio").get_schema(name)
    return _SCHEMAS[name]
