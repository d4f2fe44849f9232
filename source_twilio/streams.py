"""The one stream class: a thin adapter between the CDK and a ``StreamDefinition``.

It says what the CDK asks of a stream (cursor, state, slices, records; a list's requests and answers are its base
class's, ``lists.TwilioList``) and hands the rest to the modules that own it: ``planning`` makes the slices,
``reader`` reads them ahead and keeps account of failures, ``emission`` decides what each slice emits,
``retention`` how far back a request may ask, ``accounts`` what a refused account means.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from functools import cached_property
from typing import Any, NoReturn

from airbyte_cdk.models import AirbyteMessage, ConfiguredAirbyteStream, FailureType, SyncMode
from airbyte_cdk.sources.streams import CheckpointMixin
from airbyte_cdk.sources.streams.core import StreamData
from airbyte_cdk.sources.types import StreamSlice
from airbyte_cdk.sources.utils.schema_helpers import InternalConfig
from airbyte_cdk.sources.utils.slice_logger import SliceLogger
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_twilio.accounts import Refusal
from source_twilio.answers import ErrorKind, TwilioApiError
from source_twilio.checking import credentials_message
from source_twilio.context import SyncContext
from source_twilio.definitions import BY_NAME, Scope, StreamDefinition
from source_twilio.emission import SliceRules
from source_twilio.errors import LACKS_PERMISSION
from source_twilio.lists import ONE_PAGE, Record, TwilioList
from source_twilio.output import RecordLines, pack_records
from source_twilio.planning import Planner, SlicePlan, interleave
from source_twilio.reader import (
    NOT_YET,
    Early,
    ListFailed,
    Probe,
    RangeTooLong,
    SkipList,
    SliceDone,
    SliceReader,
    incomplete_error,
)
from source_twilio.sharing import TooLong
from source_twilio.state import StreamState
from source_twilio.windows import ONE_SECOND, Window
from source_twilio.workers import SyncInterrupted, ordered_map

READ_AHEAD_SLICES = 16  # each holds about a page (1000 records) in memory; children have their own pool
STATE_SHARE = 0.1  # STATE messages take at most this share of the bytes a stream writes (with its final one)


class TwilioStream(TwilioList, CheckpointMixin):
    """Any Twilio list, read per account (or per parent record), page by page, window by window."""

    def __init__(self, definition: StreamDefinition, context: SyncContext) -> None:
        self._state = StreamState()
        self._previous = StreamState()  # the state this sync started from: what "seen before" means
        self._incremental = False
        # partition key -> versions and children by parent version read by this sync's slices
        self._read_this_sync: dict[str, tuple[set[int], dict[int, frozenset[int]]]] = {}
        self._reader: SliceReader[SlicePlan] | None = None
        self._probes: dict[str, Probe] = {}  # partition key -> its probe, when its range was probed
        self._unsaved_bytes = 0.0  # records emitted since the last STATE message
        self._lines = False  # records handed over as ``RecordLines``: only in ``read``, when the sync asks for them
        self._unavailable: set[str] = set()  # accounts that lack the stream's ``feature``
        self._early_state: Mapping[str, Any] | None = None  # the state it started early from (see ``prefetch``)
        super().__init__(definition, context)

    # --- identity -------------------------------------------------------------------------------------

    @property
    def cursor_field(self) -> str | list[str]:
        return self.definition.cursor_field or []

    @property
    def supports_incremental(self) -> bool:
        return self.definition.incremental

    @cached_property
    def parent(self) -> TwilioStream | None:
        child_of = self.definition.child_of
        return self.context.new_stream(BY_NAME[child_of.parent]) if child_of else None

    @cached_property
    def _lister(self) -> TwilioStream | None:
        """The stream whose records a ``per_parent`` stream's lists are for (Studio's flows), made once."""
        per_parent = self.slicing.per_parent
        return self.context.new_stream(BY_NAME[per_parent.parent]) if per_parent else None

    @cached_property
    def slicing(self) -> StreamDefinition:
        """The definition whose lists and windows make this stream's slices: the parent's, for a child."""
        return self.parent.definition if self.parent else self.definition

    @cached_property
    def planner(self) -> Planner:
        config = self.context.config
        return Planner(self.definition, self.slicing, config.start_date, config.lookback)

    # --- state ----------------------------------------------------------------------------------------

    @property
    def state(self) -> MutableMapping[str, Any]:
        return self._state.to_json()

    @state.setter
    def state(self, value: MutableMapping[str, Any]) -> None:
        if self._early_state is not None and value == self._early_state:
            self._early_state = None  # the CDK sets the state the stream started early from: nothing to redo
            return
        self._state = StreamState.from_json(value, self.name)
        self._previous = StreamState.from_json(value, self.name)

    def _commit(self, plan: SlicePlan, done: SliceDone) -> None:
        """A slice's records are all emitted: its window is read, and what it read is remembered."""
        self._unsaved_bytes += done.emitted_bytes
        if not self._incremental:
            return
        probe = self._probes.get(plan.key) if plan.probe else None
        last = plan.last or (probe is not None and probe.covered)  # a covered probe's windows are not read
        read, children = self._read_this_sync.setdefault(plan.key, (set(), {}))
        read |= done.versions
        children |= done.children
        if last:
            self._state.remember(plan.key, read, replace=True, children=children)
        else:
            self._state.remember(plan.key, done.versions, replace=False, children=done.children)
        if plan.covered is not None and done.read:
            self._state.advance(plan.key, min(plan.covered.end, self.context.frame.horizon))

    # --- the read loop --------------------------------------------------------------------------------

    def read(  # type: ignore[override]
        self,
        configured_stream: ConfiguredAirbyteStream,
        logger: logging.Logger,
        slice_logger: SliceLogger,
        stream_state: MutableMapping[str, Any],
        state_manager: Any,
        internal_config: InternalConfig,
    ) -> Iterable[StreamData]:
        """The CDK's loop over slices and records, with STATE messages on a budget rather than after every slice
        and every record: one is written once the records written since the last one weigh ``1 / STATE_SHARE``
        times the state, and one at the end, also when the stream fails or the sync is stopped. So STATE bytes
        stay a small share of the output whatever the number of accounts, and no record costs a state lookup."""
        self.configured_json_schema = configured_stream.stream.json_schema
        sync_mode = configured_stream.sync_mode
        self._unsaved_bytes, emitted = 0.0, 0
        self._lines = self.context.record_lines
        started = self.context.prefetch.reached(self.name) if self.context.prefetch else None
        try:
            for stream_slice in started or self.stream_slices(sync_mode, configured_stream.cursor_field, stream_state):
                if slice_logger.should_log_slice_message(logger):
                    yield slice_logger.create_slice_log_message(stream_slice)
                for record in self.read_records(sync_mode, stream_slice=stream_slice):
                    yield record
                    emitted += record.count if isinstance(record, RecordLines) else 1
                if internal_config.is_limit_reached(emitted):
                    break
                if state_manager and self._unsaved_bytes * STATE_SHARE >= self._state.size:
                    yield self._checkpoint(state_manager)
        except (Exception, SyncInterrupted):
            if state_manager:
                yield self._checkpoint(state_manager)  # what was emitted before the failure is not read again
            raise
        if state_manager:
            yield self._checkpoint(state_manager)
        if self._lines:  # the CDK's own line counts messages (see ``SourceTwilio.read``)
            logger.info(f"Read {emitted} records from {self.name} stream")

    def start_early(
        self, configured: ConfiguredAirbyteStream, state: Mapping[str, Any], early: Early
    ) -> Iterator[StreamSlice]:
        """Its slices, begun before the CDK reaches the stream (``prefetch``; in a worker) from the state it will be
        given."""
        self.state, self._early_state = state, state  # type: ignore[assignment]
        self._lines = self.context.record_lines
        return self.stream_slices(configured.sync_mode, configured.cursor_field, state, early)

    def _checkpoint(self, state_manager: Any) -> AirbyteMessage:
        self._unsaved_bytes = 0.0
        return self._checkpoint_state(self.state, state_manager)

    # --- slices ---------------------------------------------------------------------------------------

    def stream_slices(
        self,
        sync_mode: SyncMode = SyncMode.full_refresh,
        cursor_field: Any = None,
        stream_state: Any = None,
        early: Early | None = None,
    ) -> Iterator[StreamSlice]:
        """The slices, each already being read in a worker while the CDK emits the ones before it; ``early``: begun
        before the CDK reaches the stream (``prefetch``)."""
        self._incremental = sync_mode == SyncMode.incremental and self.definition.incremental
        self._read_this_sync.clear()
        self._probes.clear()
        # Accounts take turns (a few dozen at a time), so that slices read ahead spread over the accounts' separate
        # Twilio limits. Each account's own slices stay in order, as its cursor needs.
        depth = min(self.context.config.num_workers, READ_AHEAD_SLICES)
        plans = interleave((self._plan(partition) for partition in self._partitions()), width=2 * depth)
        pack = pack_records(self.name) if self._lines else None
        reader = SliceReader(self.context.slice_pool, depth, self._read_slice, lambda p: p.key, self._gate, pack)
        self._reader = reader
        for plan in reader.run_ahead(plans, early):
            yield plan.stream_slice()
        if self._reader.failures:
            # After the last slice, so that every other list was read and checkpointed first.
            raise incomplete_error(self.name, self._reader.failures, describe_partition_key)

    def _partitions(self) -> Iterator[dict[str, Any]]:
        slicing = self.slicing
        if slicing.scope is Scope.ROOT:
            account_sids = [self.context.config.account_sid]
        else:
            account_sids = self.context.accounts.readable()
        wanted = self.definition.child_of.parent_partitions if self.definition.child_of else None
        partitions = (
            {"account_sid": account_sid, **({"params": params} if params else {})}
            for account_sid in account_sids
            for params in slicing.partitions
            if wanted is None or params in wanted
        )
        if slicing.per_parent is None:
            yield from partitions
            return
        ahead = self.context.config.num_workers
        for partitions_of_parents in ordered_map(self.context.child_pool, self._parents_of, partitions, ahead):
            yield from partitions_of_parents

    def _parents_of(self, partition: Mapping[str, Any]) -> list[dict[str, Any]]:
        """A partition for each record of the list a ``per_parent`` stream is read for (an account's flows)."""
        per_parent = self.slicing.per_parent
        assert per_parent is not None and self._lister is not None
        try:
            records = list(self._lister._records_of(partition, {}))
        except TwilioApiError as error:
            if error.kind is not ErrorKind.REFUSED:
                raise
            try:
                self._refused(partition["account_sid"], str(error))
            except SkipList:
                return []
        fields = per_parent.path_fields.items()
        return [{**partition, **{name: record.get(field) for name, field in fields}} for record in records]

    def _plan(self, partition: Mapping[str, Any]) -> Iterator[SlicePlan | object]:
        """A partition's slices; after a probe, ``NOT_YET`` until it answers, then its windows if it did not cover
        the range (so a small account's windows never take a place among the slices read ahead)."""
        previous = self._previous if self._incremental else None
        if self.slicing.time_filter is None:
            yield from self.planner.plan(partition, previous)
            return
        account_sid = partition["account_sid"]
        warned = False
        for plan in self._shares(self.planner.plan(partition, previous, self.context.frame, self._created(partition))):
            if plan.covered is not None and not warned:
                warned = True
                self._warn_of_retention(account_sid, plan.covered)
            if not plan.probe:
                yield plan
                continue
            probe = self._probes[plan.key] = Probe()
            yield plan
            while not probe.answered.is_set():
                yield NOT_YET
            if probe.covered:
                return

    def _created(self, partition: Mapping[str, Any]) -> Any:
        return self.context.accounts.created(partition["account_sid"])

    def _shares(self, plans: Iterable[SlicePlan]) -> Iterator[SlicePlan]:
        """A child stream's slices: a long one of the parent's (a first sync's one pass of the list) in as many
        parts as its parent kept chunks of parents, so that several accounts' children are fetched at once."""
        for plan in plans:
            long = self.parent is not None and plan.sweep is not None and plan.sweep.covers is not None
            count = self.context.shared.parts(self.parent.name, plan.request) if long else 0  # type: ignore[union-attr]
            yield from plan.parts(count) if count > 1 else [plan]

    def _warn_of_retention(self, account_sid: str, first: Window) -> None:
        time_filter = self.slicing.time_filter
        floor = self.context.retention.floor(account_sid, time_filter) if time_filter else None
        if time_filter is None or floor is None or first.start >= floor:
            return
        days = time_filter.retention.days  # type: ignore[union-attr]
        self.context.warn_once(  # once per stream: not a line per account, every sync
            f"{self.name}: Twilio keeps at most {days} days of this data and refuses older ranges; each account is "
            "read from no earlier than that, not from the start date."
        )
        self.logger.info(
            f"{self.name} of {account_sid}: reading from {floor:%Y-%m-%dT%H:%M:%SZ} "
            f"instead of {first.start:%Y-%m-%dT%H:%M:%SZ} ({days} days kept)."
        )

    def _gate(self, plan: SlicePlan) -> None:
        """Raises ``SkipList`` for a slice of an account found suspended or closed during the sync, or of a
        subaccount whose own credentials this stream needs and Twilio did not list."""
        skipped = self.context.accounts.skipped(plan.account_sid) if plan.account_sid else None
        if skipped is not None:
            raise SkipList(skipped.reason)
        if plan.account_sid in self._unavailable:
            raise SkipList(f"no {self.definition.feature}")
        if (
            self.definition.own_credentials
            and plan.account_sid
            and not self.context.authenticator.knows(plan.account_sid)
        ):
            reason = "Twilio's list of accounts gave no Auth Token for it, which this list needs"
            self.context.warn_once(f"{self.name} of subaccount {plan.account_sid} is not read: {reason}.")
            raise SkipList(reason)

    def _refused(self, account_sid: str, detail: str) -> NoReturn:
        verdict = self.context.accounts.refused(account_sid, detail)
        if verdict.refusal is Refusal.SKIP:
            raise SkipList(verdict.reason)
        if verdict.refusal is Refusal.FAIL:
            raise ListFailed(verdict.message(detail), FailureType.transient_error)
        raise AirbyteTracedException(
            message=credentials_message(self.context.config, detail, f"stream {self.name}"),
            internal_message=detail,
            failure_type=FailureType.config_error,
        )

    # --- records --------------------------------------------------------------------------------------

    def read_records(
        self,
        sync_mode: SyncMode,
        cursor_field: Any = None,
        stream_slice: Any = None,
        stream_state: Any = None,
    ) -> Iterable[Record]:
        plan = stream_slice.extra_fields.get("plan") if isinstance(stream_slice, StreamSlice) else None
        if plan is None or self._reader is None:
            raise ValueError(f"{self.name}: read_records needs a slice of stream_slices()")
        try:
            for item in self._reader.records(plan):
                if isinstance(item, SliceDone):
                    self._commit(plan, item)  # state that may move only once the records before it are emitted
                else:
                    yield item
        finally:
            if plan.probe:  # not read (its list failed or was skipped), or stopped: its windows are planned now
                self._probes[plan.key].answer(False)

    def _read_slice(self, plan: SlicePlan) -> Iterator[list[Record] | SliceDone]:
        """A slice's records, a list at a time (a page, or a parent's children), then its ``SliceDone``: read where
        the caller runs (a worker, or the CDK's thread)."""
        probe = self._probes.get(plan.key) if plan.probe else None
        emitted, covered = 0, False
        try:
            for records in self._read_children(plan) if self.parent else self._read_list(plan):
                if not records:
                    continue
                if probe is not None and not emitted:
                    probe.answer(True)  # the probe's page is whole before any record comes out: say so at once
                emitted += len(records)
                yield records
            covered = True
        except RangeTooLong:
            yield SliceDone(frozenset(), read=False)
            return
        except TwilioApiError as error:
            account_sid = error.account_sid or plan.account_sid or self.context.config.account_sid
            if error.status == 403 and self.definition.feature:
                self.context.warn_once(
                    f"{self.name} of account {account_sid} is not read: Twilio refuses it ({error}); the account "
                    f"may not have {self.definition.feature} enabled."
                )
                self._unavailable.add(account_sid)  # its later slices are not asked for
                raise SkipList(f"no {self.definition.feature}") from None
            if error.status == 403 and error.code == LACKS_PERMISSION:
                raise AirbyteTracedException(
                    message=(
                        f"The credentials lack the permission to read stream {self.name} ({error}): give the API key "
                        "that permission (Twilio Console > API keys), or leave the stream out of the connection."
                    ),
                    internal_message=str(error),
                    failure_type=FailureType.config_error,
                ) from None
            if error.kind is ErrorKind.REFUSED:
                self._refused(account_sid, str(error))
            raise ListFailed(f"{error}", FailureType.system_error) from error
        finally:
            if probe is not None:
                probe.answer(covered)
        yield SliceDone(frozenset(plan.rules.versions), emitted * self._bytes_per_record, children=plan.rules.children)

    def _read_list(self, plan: SlicePlan) -> Iterator[list[Record]]:
        """What the slice emits of each page of its list."""
        # A child stream read later in the sync takes the parents it needs from here (see ``sharing``).
        keeper = self.context.shared.keeper(self.name, plan.request, plan.partition.get("params", {}))
        try:
            for rules, page in self._fetch(plan):
                if keeper is not None:
                    for record in page:
                        keeper.add(record)
                yield rules.emitted(page)
        except RangeTooLong:
            if keeper is not None:
                keeper.too_long()
            raise
        if keeper is not None:
            keeper.finish()

    def _read_children(self, plan: SlicePlan) -> Iterator[list[Record]]:
        """What the slice emits of each parent's children."""
        child_of = self.definition.child_of
        assert child_of is not None and self.parent is not None
        account_sid = plan.account_sid
        try:
            kept = self.context.shared.take(self.parent.name, plan.request, plan.part)
        except TooLong:
            raise RangeTooLong from None
        if kept is None and plan.part is not None:  # parts are planned only from what the parent kept
            raise RuntimeError(f"{self.name}: the parents kept for part {plan.part} of {plan.key} are gone")
        parents = (
            ((rules, parent) for rules, page in self.parent._fetch(plan) for parent in page)
            if kept is None
            else ((plan.rules, parent) for parent in kept)
        )
        # Children are asked for only where the parent is new or changed, and not already read at its version (see
        # ``emission``).
        expansions = (
            expansion
            for rules, parent in parents
            if child_of.has_children(parent)
            and (expansion := rules.expands(parent)) is not None
            and not rules.recalls(expansion)
        )

        def children_of(expansion: Any) -> tuple[Any, list[Record]]:
            values = {name: expansion.parent.get(source) for name, source in child_of.path_fields.items()}
            return expansion, list(self._records_of({"account_sid": account_sid, **values}, {}))

        # No more of an account's children asked for at once than it may have in flight: the child pool is shared by
        # the parts of every account read ahead, and a part queueing more would hold its threads waiting on this
        # account's slots while the others' children wait behind them (standard bench: 98 s -> 81 s).
        ahead = min(self.context.config.num_workers, self.context.config.per_account)
        for expansion, children in ordered_map(self.context.child_pool, children_of, expansions, ahead):
            plan.rules.read_children(expansion, children)
            yield [child for child in children if plan.rules.emits_child(child, expansion)]

    def _fetch(self, plan: SlicePlan) -> Iterator[tuple[SliceRules, list[Record]]]:
        """Every page this stream's list returns for the slice, with the rules that place its records."""
        if plan.window is None:
            for page in self._pages(plan.partition, plan.cursor_slice()):
                yield plan.rules, page
        elif plan.probe:  # the whole page first: if Twilio has more, none of it is used
            yield from list(self._fetch_window(plan, plan.rules, plan.window, one_page=True))
        else:
            yield from self._fetch_window(plan, plan.rules, plan.window)

    def _fetch_window(
        self, plan: SlicePlan, rules: SliceRules, window: Window, one_page: bool = False
    ) -> Iterator[tuple[SliceRules, list[Record]]]:
        """One window's pages: from no earlier than Twilio still keeps; narrowed when Twilio refuses it.
        ``one_page``: the window in one page, or ``RangeTooLong``."""
        time_filter = self.definition.time_filter
        assert time_filter is not None
        account_sid = plan.account_sid or self.context.config.account_sid
        retention = self.context.retention
        while True:
            floor = retention.floor(account_sid, time_filter)
            if floor is not None and floor >= window.end:
                return  # Twilio keeps nothing of it any more
            asked = Window(max(window.start, floor), window.end) if floor else window
            read = 0
            try:
                for page in self._pages(plan.partition, {**asked.as_slice(), **({ONE_PAGE: True} if one_page else {})}):
                    read += len(page)
                    yield rules, page
                return
            except TwilioApiError as error:
                if read:
                    raise  # part of the window is emitted already: the next sync reads it again
                if error.kind is ErrorKind.RETENTION and retention.shorten(
                    account_sid, time_filter, asked.start, lambda start: self._accepts(plan.partition, start)
                ):
                    continue
                if one_page and error.kind is ErrorKind.TOO_MANY_RESULTS:
                    raise RangeTooLong from None
                halves = window.halves() if error.kind is ErrorKind.TOO_MANY_RESULTS else None
                if halves is None:
                    raise
                self.logger.info(f"{self.name}: {error}; reading {window.as_slice()} in two halves.")
                for index, half in enumerate(halves):
                    yield from self._fetch_window(
                        plan, rules.narrowed(*time_filter.bounds(half), first=index == 0), half
                    )
                return

    def _accepts(self, partition: Mapping[str, Any], start: Any) -> bool:
        """Whether Twilio serves the list from ``start`` (one record asked for): how retention is learned."""
        time_filter = self.definition.time_filter
        assert time_filter is not None
        params = {**self.request_params(stream_slice=StreamSlice(partition=partition, cursor_slice={})), "PageSize": 1}
        params.update(time_filter.params(Window(start, start + ONE_SECOND)))
        _, response = self._http_client.send_request(
            "GET",
            self.url_base + self.definition.path.format_map(partition),
            request_kwargs=self.request_kwargs(),
            headers=dict(self.request_headers(stream_slice=StreamSlice(partition=partition, cursor_slice={}))),
            params=params,
        )
        if response.status_code == 200:
            return True
        error = TwilioApiError(response)
        if error.kind is ErrorKind.RETENTION:
            return False
        raise error


def describe_partition_key(key: str) -> str:
    account, _, params = key.partition("/")
    return f"account {account}" + (f" ({params.replace('/', ', ')})" if params else "")
