"""Checks of the command's inputs before the CDK runs, so that each bad input gets one specific message.

Without it a config file that is not JSON ends in a stack trace, and a malformed field in the CDK's generic
"Config validation error" naming a regular expression. ``check`` answers with a failed CONNECTION_STATUS
(exit 0, as Airbyte expects); the other commands with a TRACE error of type config_error (exit 1).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from airbyte_cdk.models import (
    AirbyteConnectionStatus,
    AirbyteErrorTraceMessage,
    AirbyteMessage,
    AirbyteMessageSerializer,
    AirbyteTraceMessage,
    FailureType,
    Status,
    TraceType,
    Type,
)
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_twilio.config import TwilioConfig
from source_twilio.definitions import BY_NAME


@dataclass(frozen=True)
class Failure:
    message_line: str
    exit_code: int


def preflight(args: list[str]) -> Failure | None:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("command", nargs="?")
    parser.add_argument("--config")
    parser.add_argument("--catalog")
    known, _ = parser.parse_known_args(args)
    if known.command not in ("check", "discover", "read") or not known.config:
        return None  # spec, help and usage errors are the CDK's
    try:
        config = _load_json(known.config, "config")
        TwilioConfig.from_mapping(config)
        if known.command == "read" and known.catalog:
            _check_catalog(_load_json(known.catalog, "catalog"))
    except AirbyteTracedException as error:
        return _failure(known.command, error.message or str(error))
    return None


def _load_json(path: str, what: str) -> Any:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        raise _config_error(f"The {what} file {path} does not exist.") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise _config_error(f"The {what} file {path} is not valid JSON ({error}).") from None
    except OSError as error:
        raise _config_error(f"The {what} file {path} cannot be read ({error.strerror}).") from None


def _check_catalog(catalog: Any) -> None:
    streams = catalog.get("streams") if isinstance(catalog, Mapping) else None
    if not isinstance(streams, list):
        raise _config_error("The catalog must be a JSON object with a list of streams under 'streams'.")
    for configured in streams:
        name = (configured.get("stream") or {}).get("name") if isinstance(configured, Mapping) else None
        definition = BY_NAME.get(name) if isinstance(name, str) else None
        if definition is None:
            raise _config_error(
                f"The catalog names a stream {name!r} that this connector does not have: refresh the source schema "
                f"(discover). Streams: {', '.join(sorted(BY_NAME))}."
            )
        if configured.get("sync_mode") == "incremental" and not definition.incremental:
            raise _config_error(
                f"Stream {name} supports only full_refresh, but the catalog asks for incremental: change its sync mode."
            )


def _config_error(message: str) -> AirbyteTracedException:
    return AirbyteTracedException(message=message, internal_message=message, failure_type=FailureType.config_error)


def _failure(command: str, message: str) -> Failure:
    if command == "check":
        status = AirbyteConnectionStatus(status=Status.FAILED, message=message)
        return Failure(_line(AirbyteMessage(type=Type.CONNECTION_STATUS, connectionStatus=status)), 0)
    trace = AirbyteTraceMessage(
        type=TraceType.ERROR,
        emitted_at=time.time() * 1000,
        error=AirbyteErrorTraceMessage(
            message=message, internal_message=message, failure_type=FailureType.config_error
        ),
    )
    return Failure(_line(AirbyteMessage(type=Type.TRACE, trace=trace)), 1)


def _line(message: AirbyteMessage) -> str:
    return orjson.dumps(AirbyteMessageSerializer.dump(message)).decode()
