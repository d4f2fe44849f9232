"""SourceTwilio: the Airbyte source, assembled from the stream definitions."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from airbyte_cdk.models import (
    AirbyteConnectionStatus,
    AirbyteMessage,
    AirbyteStateMessage,
    ConfiguredAirbyteCatalog,
    ConnectorSpecification,
    FailureType,
    Status,
    SyncMode,
    TraceType,
    Type,
)
from airbyte_cdk.sources import AbstractSource
from airbyte_cdk.sources.connector_state_manager import ConnectorStateManager
from airbyte_cdk.sources.streams import Stream
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_twilio.accounts import AccountDirectory
from source_twilio.checking import get_retrying, json_object, probe
from source_twilio.commands import load_spec
from source_twilio.config import TwilioConfig, announce_emulator
from source_twilio.context import SyncContext
from source_twilio.credentials import AccountCredentials, credentials_for
from source_twilio.definitions import BY_NAME, STREAMS
from source_twilio.prefetch import Prefetcher
from source_twilio.sharing import SharedLists, parents_first


class SourceTwilio(AbstractSource):
    """Twilio: messages, calls, recordings, usage, numbers, alerts and more, for the main account and its subaccounts.

    ``record_lines``: the streams hand their records to the CDK's loop as ``output.RecordLines`` (many finished
    lines per message), for an entry point that writes and counts them (``process.TwilioEntrypoint``); otherwise
    one record at a time, as the CDK's own entry point and test tools expect."""

    def __init__(self, record_lines: bool = False) -> None:
        super().__init__()
        self._record_lines = record_lines

    def spec(self, logger: logging.Logger) -> ConnectorSpecification:
        """``spec.yaml``, parsed once per process by YAML's C parser (the CDK's parsed it again, in Python, for each
        ``read`` and ``discover``, to check the config against it)."""
        return load_spec()

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        succeeded, message = self.check_connection(logger, config)
        if succeeded:
            return AirbyteConnectionStatus(status=Status.SUCCEEDED, message=message)
        return AirbyteConnectionStatus(status=Status.FAILED, message=str(message))

    def check_connection(self, logger: logging.Logger, config: Mapping[str, Any]) -> tuple[bool, str | None]:
        try:
            twilio_config = parse_config(config)
        except AirbyteTracedException as error:
            return False, error.message
        return probe(twilio_config)

    def streams(self, config: Mapping[str, Any]) -> list[Stream]:
        self._context = sync_context(parse_config(config), getattr(self, "_selected", None), self._record_lines)
        streams = [self._context.new_stream(definition) for definition in STREAMS]
        reading = getattr(self, "_reading", None)
        if reading is not None:  # the catalog and state of the read that asks
            order, state = reading
            self._context.prefetch = Prefetcher(order, {stream.name: stream for stream in streams}, state_of(state))
        return streams

    def read(
        self,
        logger: logging.Logger,
        config: Mapping[str, Any],
        catalog: ConfiguredAirbyteCatalog,
        state: list[AirbyteStateMessage] | None = None,
    ) -> Iterator[AirbyteMessage]:
        """The CDK's read, with three corrections and a change of order: a stream that has no incremental mode is
        read in full refresh even when the catalog asks otherwise (as PyAirbyte's defaults do); a child stream is
        read after its parent, so that the parent's pages are read once (``sharing``); the sync stops at once when Twilio is
        out of reach; and the closing error carries the failure type of its causes, not always config_error. The
        streams after the one being read start early (``prefetch``)."""
        causes: list[FailureType] = []
        catalog = parents_first(full_refresh_where_needed(catalog, logger))
        self._selected = [configured.stream.name for configured in catalog.streams]
        self._reading = (catalog.streams, state)
        if self._record_lines:
            logger.addFilter(_counting_messages)
        try:
            for message in super().read(logger, config, catalog, state):
                if message.type == Type.TRACE and message.trace.type == TraceType.ERROR:
                    causes.append(message.trace.error.failure_type or FailureType.system_error)
                yield message
        except AirbyteTracedException as error:
            if causes and error.message and error.message.startswith(CDK_CLOSING_ERROR):
                error.failure_type = worst(causes)
            raise
        finally:
            logger.removeFilter(_counting_messages)
            context = getattr(self, "_context", None)
            if context is not None:
                context.close()

    @property
    def stop_sync_on_stream_failure(self) -> bool:
        context = getattr(self, "_context", None)
        return context is not None and context.outage.ongoing


def _counting_messages(record: logging.LogRecord) -> bool:
    """Drops the CDK's "Read N records" line, which counts the messages of a stream, not the records that
    ``RecordLines`` carry; each stream logs the same line with its count of records instead."""
    return not (record.funcName == "_read_stream" and str(record.msg).startswith("Read "))


CDK_CLOSING_ERROR = "During the sync, the following streams did not sync successfully"
SEVERITY = (FailureType.config_error, FailureType.system_error, FailureType.transient_error)


def worst(causes: list[FailureType]) -> FailureType:
    """What the sync's closing error is: config if any cause was, transient only if every one was."""
    return min(causes, key=lambda cause: SEVERITY.index(cause) if cause in SEVERITY else 1)


def state_of(state: list[AirbyteStateMessage] | None) -> Callable[[str], Mapping[str, Any]]:
    """A stream's state as the CDK will hand it to the stream (``AbstractSource._read_stream``)."""
    manager = ConnectorStateManager(state=state)

    def of(name: str) -> Mapping[str, Any]:
        stream_state = manager.get_stream_state(name, None)
        return {} if stream_state == {"__ab_no_cursor_state_message": True} else stream_state

    return of


def full_refresh_where_needed(catalog: ConfiguredAirbyteCatalog, logger: logging.Logger) -> ConfiguredAirbyteCatalog:
    for configured in catalog.streams:
        definition = BY_NAME.get(configured.stream.name)
        if configured.sync_mode == SyncMode.incremental and definition is not None and not definition.incremental:
            logger.info(f"Stream {definition.name} has no incremental mode: reading it in full refresh.")
            configured.sync_mode = SyncMode.full_refresh
    return catalog


def parse_config(config: Mapping[str, Any]) -> TwilioConfig:
    twilio_config = TwilioConfig.from_mapping(config)
    announce_emulator(twilio_config)
    return twilio_config


def authenticator(config: TwilioConfig) -> AccountCredentials:
    return credentials_for(config)


def sync_context(config: TwilioConfig, selected: list[str] | None = None, record_lines: bool = False) -> SyncContext:
    context = SyncContext(
        config=config, authenticator=authenticator(config), shared=SharedLists(selected), record_lines=record_lines
    )

    def list_accounts() -> Iterator[Mapping[str, Any]]:
        stream = context.new_stream(BY_NAME["accounts"])
        for stream_slice in stream.stream_slices(SyncMode.full_refresh):
            yield from stream.read_records(SyncMode.full_refresh, stream_slice=stream_slice)

    def describe_account(account_sid: str) -> Mapping[str, Any] | None:
        url = f"{config.api_base}/2010-04-01/Accounts/{account_sid}.json"
        response = get_retrying(context.session, url, auth=context.authenticator)
        return json_object(response) if response.status_code == 200 else None

    context.accounts = AccountDirectory(
        config.account_sid,
        list_accounts,
        describe_account,
        main_only=config.main_account_only,
        selected=config.subaccounts.includes,
    )
    return context
