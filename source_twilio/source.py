"""SourceTwilio: the Airbyte source, assembled from the stream definitions."""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Iterator, Mapping
from typing import Any

import requests
from airbyte_cdk.models import (
    AirbyteConnectionStatus,
    AirbyteMessage,
    AirbyteStateMessage,
    ConfiguredAirbyteCatalog,
    FailureType,
    Status,
    SyncMode,
    TraceType,
    Type,
)
from airbyte_cdk.sources import AbstractSource
from airbyte_cdk.sources.streams import Stream
from airbyte_cdk.sources.streams.http.requests_native_auth import BasicHttpAuthenticator
from airbyte_cdk.utils.airbyte_secrets_utils import add_to_secrets
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_twilio.accounts import AccountDirectory
from source_twilio.config import EMULATOR_URL_ENV, TwilioConfig
from source_twilio.context import SyncContext
from source_twilio.definitions import BY_NAME, STREAMS
from source_twilio.errors import describe, json_body
from source_twilio.sharing import SharedLists, parents_first
from source_twilio.streams import credentials_message

CHECK_TIMEOUT_SECONDS = 30
CHECK_ATTEMPTS = 3


class SourceTwilio(AbstractSource):
    """Twilio: messages, calls, recordings, usage, numbers, alerts and more, for the main account and its subaccounts.

    ``record_lines``: the streams hand their records to the CDK's loop as ``output.RecordLines`` (many finished
    lines per message), for an entry point that writes and counts them (``process.TwilioEntrypoint``); otherwise
    one record at a time, as the CDK's own entry point and test tools expect."""

    def __init__(self, record_lines: bool = False) -> None:
        super().__init__()
        self._record_lines = record_lines

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        succeeded, message = self.check_connection(logger, config)
        if succeeded:
            return AirbyteConnectionStatus(status=Status.SUCCEEDED)
        return AirbyteConnectionStatus(status=Status.FAILED, message=str(message))

    def check_connection(self, logger: logging.Logger, config: Mapping[str, Any]) -> tuple[bool, str | None]:
        try:
            twilio_config = parse_config(config)
        except AirbyteTracedException as error:
            return False, error.message
        return probe(twilio_config)

    def streams(self, config: Mapping[str, Any]) -> list[Stream]:
        self._context = sync_context(parse_config(config), getattr(self, "_selected", None), self._record_lines)
        return [self._context.new_stream(definition) for definition in STREAMS]

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
        out of reach; and the closing error carries the failure type of its causes, not always config_error."""
        causes: list[FailureType] = []
        catalog = parents_first(full_refresh_where_needed(catalog, logger))
        self._selected = [configured.stream.name for configured in catalog.streams]
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


def full_refresh_where_needed(catalog: ConfiguredAirbyteCatalog, logger: logging.Logger) -> ConfiguredAirbyteCatalog:
    for configured in catalog.streams:
        definition = BY_NAME.get(configured.stream.name)
        if configured.sync_mode == SyncMode.incremental and definition is not None and not definition.incremental:
            logger.info(f"Stream {definition.name} has no incremental mode: reading it in full refresh.")
            configured.sync_mode = SyncMode.full_refresh
    return catalog


_LOGGED_EMULATOR: set[str] = set()


def parse_config(config: Mapping[str, Any]) -> TwilioConfig:
    twilio_config = TwilioConfig.from_mapping(config)
    if twilio_config.api_base not in _LOGGED_EMULATOR and twilio_config.api_base != "https://api.twilio.com":
        _LOGGED_EMULATOR.add(twilio_config.api_base)
        logging.getLogger("airbyte").warning(
            f"{EMULATOR_URL_ENV} is set: reading from {twilio_config.api_base}, not Twilio."
        )
    return twilio_config


def authenticator(config: TwilioConfig) -> BasicHttpAuthenticator:
    # The Authorization header encodes the secret; it must be masked wherever it could be logged.
    encoded = base64.b64encode(f"{config.username}:{config.password}".encode()).decode()
    add_to_secrets(encoded)
    add_to_secrets(config.password)
    return BasicHttpAuthenticator(config.username, config.password)


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
        response = _get(context.session, url, auth=context.authenticator)
        return _body(response) if response.status_code == 200 else None

    context.accounts = AccountDirectory(
        config.account_sid, list_accounts, describe_account, main_only=config.auth_type == "api_key"
    )
    return context


def probe(config: TwilioConfig) -> tuple[bool, str | None]:
    """One cheap authenticated request for the main account, with a message for each way it can fail."""
    session = requests.Session()
    session.auth = authenticator(config)
    account_url = f"{config.api_base}/2010-04-01/Accounts/{config.account_sid}.json"
    try:
        response = _get(session, account_url)
    except requests.RequestException as error:
        return False, (
            f"Could not reach Twilio at {config.api_base} ({type(error).__name__}): check the network, proxy and "
            "firewall of the machine running the connector (it must reach api.twilio.com and monitor.twilio.com over HTTPS)."
        )
    if response.status_code == 200:
        status = _body(response).get("status")
        if status not in (None, "active"):
            return (
                False,
                f"The Twilio account {config.account_sid} is {status}: Twilio serves no data for it until it is active again.",
            )
        return True, None
    if response.status_code in (401, 403) and config.auth_type == "api_key" and _reaches_account_data(session, config):
        return False, (
            f"The API key {config.username} can read the account's data but not its account list "
            f"({describe(response)}): it is a Standard API key, which cannot read /Accounts or /Keys. "
            "Use a Main API key (Twilio Console > API keys) or the account's Auth Token."
        )
    if response.status_code in (401, 403):
        return False, credentials_message(config, describe(response), "the account")
    if response.status_code == 404:
        return (
            False,
            f"Twilio has no account {config.account_sid} for these credentials ({describe(response)}): check the Account SID.",
        )
    return False, f"Twilio answered the connection check with {describe(response)}; try again later."


def _get(
    session: requests.Session, url: str, params: Mapping[str, Any] | None = None, auth: Any = None
) -> requests.Response:
    response = session.get(url, params=params, timeout=CHECK_TIMEOUT_SECONDS, auth=auth)
    for attempt in range(1, CHECK_ATTEMPTS):
        if response.status_code not in (401, 429) and response.status_code < 500:
            break
        time.sleep(attempt)
        response = session.get(url, params=params, timeout=CHECK_TIMEOUT_SECONDS, auth=auth)
    return response


def _reaches_account_data(session: requests.Session, config: TwilioConfig) -> bool:
    url = f"{config.api_base}/2010-04-01/Accounts/{config.account_sid}/Messages.json"
    try:
        return _get(session, url, {"PageSize": 1}).status_code == 200
    except requests.RequestException:
        return False


def _body(response: requests.Response) -> dict[str, Any]:
    try:
        body = json_body(response)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
