"""Checks of the command's inputs before the CDK runs, so that each bad input gets one specific message.

Without it a config file that is not JSON ends in a stack trace, a malformed field in the CDK's generic
"Config validation error" naming a regular expression, a state file that is not a list of STATE messages in
"Something went wrong in the connector", and refused credentials in one error per stream of the catalog.
``check`` answers with a failed CONNECTION_STATUS (exit 0, as Airbyte expects); the other commands with a
TRACE error of type config_error (exit 1).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
import requests
from airbyte_cdk.models import (
    AirbyteConnectionStatus,
    AirbyteErrorTraceMessage,
    AirbyteMessage,
    AirbyteMessageSerializer,
    AirbyteStateMessageSerializer,
    AirbyteTraceMessage,
    ConfiguredAirbyteCatalogSerializer,
    FailureType,
    Status,
    TraceType,
    Type,
)
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError, best_match

from source_twilio.checking import probe, selection_problem
from source_twilio.config import TwilioConfig, shown
from source_twilio.credentials import OAuthRefused, credentials_for
from source_twilio.definitions import BY_NAME
from source_twilio.state import StreamState

SYNC_MODES = ("full_refresh", "incremental")
RESET_HINT = (
    "Reset the connection's state (Airbyte: Refresh / Reset data) or run without --state to sync from start_date."
)
NO_CURSOR_STATE = {"__ab_no_cursor_state_message": True}  # the CDK's state of a full-refresh stream; it drops it
PROBE_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class Failure:
    message_line: str
    exit_code: int


def preflight(args: list[str]) -> Failure | None:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("command", nargs="?")
    parser.add_argument("--config")
    parser.add_argument("--catalog")
    parser.add_argument("--state")
    known, _ = parser.parse_known_args(args)
    if known.command not in ("check", "discover", "read") or not known.config:
        return None  # spec, help and usage errors are the CDK's
    try:
        config = _load_json(known.config, "config")
        twilio_config = TwilioConfig.from_mapping(config)
        _check_against_spec(config)
        if known.command == "read":
            streams = _check_catalog(_load_json(known.catalog, "catalog")) if known.catalog else set()
            if known.state:
                _check_state(_load_json(known.state, "state"), known.state, streams)
            _check_credentials(twilio_config)
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


# --- config: whatever the CDK's spec validation would reject, said without its regular expressions ------------


def _check_against_spec(config: Mapping[str, Any]) -> None:
    from source_twilio.commands import load_spec

    schema = load_spec().connectionSpecification
    error = best_match(Draft7Validator(schema).iter_errors(config))
    if error is not None:
        raise _config_error(_describe_spec_error(error))


def _describe_spec_error(error: ValidationError) -> str:
    """One sentence naming the field and what it needs; never the value of a secret field."""
    field = ".".join(str(part) for part in error.absolute_path)
    where = field or "The configuration"
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    if error.validator == "required":
        missing = error.message.split("'")[1] if error.message.count("'") >= 2 else error.message
        hint = " ('auth_token' or 'api_key')" if missing == "auth_type" else ""
        return f"{where} lacks the field {missing}{hint}: add it (see the connector's documentation)."
    if field.startswith("credentials") and error.validator in ("oneOf", "anyOf", "const"):
        return (
            'credentials must be {"auth_type": "auth_token", "auth_token": "..."} or '
            '{"auth_type": "api_key", "api_key_sid": "SK...", "api_key_secret": "..."}.'
        )
    if error.validator == "type":
        return f"{where} must be of type {error.validator_value}, not {_json_type(error.instance)}."
    quoted = "" if schema.get("airbyte_secret") else f" {shown(error.instance)}"
    if error.validator == "pattern":
        form = schema.get("pattern_descriptor") or schema.get("pattern")
        return f"{where}{quoted} does not have the expected form: {form}."
    if error.validator in ("minimum", "maximum"):
        return f"{where} must be from {schema.get('minimum')} to {schema.get('maximum')}, got{quoted}."
    return f"{where}{quoted} is not accepted by the connector's specification ({error.validator} {error.validator_value!r})."


def _json_type(value: Any) -> str:
    names = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


# --- catalog --------------------------------------------------------------------------------------------------


def _check_catalog(catalog: Any) -> set[str]:
    """The names of the streams the catalog selects, once every entry is one this connector can read."""
    streams = catalog.get("streams") if isinstance(catalog, Mapping) else None
    if not isinstance(streams, list):
        raise _config_error("The catalog must be a JSON object with a list of streams under 'streams'.")
    names = set()
    for configured in streams:
        name = (configured.get("stream") or {}).get("name") if isinstance(configured, Mapping) else None
        definition = BY_NAME.get(name) if isinstance(name, str) else None
        if definition is None:
            raise _config_error(
                f"The catalog names a stream {name!r} that this connector does not have: refresh the source schema "
                f"(discover). Streams: {', '.join(sorted(BY_NAME))}."
            )
        mode = configured.get("sync_mode")
        if mode not in SYNC_MODES:
            raise _config_error(
                f"The catalog asks for sync mode {mode!r} for stream {name}: this connector supports "
                f"{' and '.join(SYNC_MODES if definition.incremental else SYNC_MODES[:1])} for it."
            )
        names.add(name)
    try:
        ConfiguredAirbyteCatalogSerializer.load(catalog)
    except Exception as error:  # the CDK's own validation: its message, without the stack trace
        raise _config_error(f"The catalog is not a valid Airbyte configured catalog: {_first_problem(error)}") from None
    return names


# --- state ----------------------------------------------------------------------------------------------------


def _check_state(state: Any, path: str, streams: set[str]) -> None:
    if state is None or state == [] or state == {}:
        return  # no state: the CDK syncs from start_date
    if isinstance(state, Mapping):
        raise _config_error(
            f"The state file {path} holds one JSON object (the legacy state format), not the list of per-stream "
            f'STATE messages this connector reads ([{{"type": "STREAM", "stream": {{...}}}}, ...]). {RESET_HINT}'
        )
    if not isinstance(state, list):
        raise _config_error(
            f"The state file {path} holds a JSON {_json_type(state)}, not a list of per-stream STATE messages. {RESET_HINT}"
        )
    for position, entry in enumerate(state, start=1):
        kind = entry.get("type") if isinstance(entry, Mapping) else None
        if kind != "STREAM":
            what = f"a {kind} state message" if isinstance(kind, str) else f"a JSON {_json_type(entry)}"
            raise _config_error(
                f"Entry {position} of the state file {path} is {what}, not a per-stream (STREAM) state message as "
                f"this connector writes: the state may come from another connector. {RESET_HINT}"
            )
        try:
            parsed = AirbyteStateMessageSerializer.load(entry)
        except Exception as error:
            raise _config_error(
                f"Entry {position} of the state file {path} is not an Airbyte STATE message ({_first_problem(error)}). "
                f"{RESET_HINT}"
            ) from None
        if parsed.stream is None or not parsed.stream.stream_descriptor.name:
            raise _config_error(f"Entry {position} of the state file {path} names no stream. {RESET_HINT}")
        name = parsed.stream.stream_descriptor.name
        blob = entry["stream"].get("stream_state")
        if name in streams and blob != NO_CURSOR_STATE:  # the CDK hands every other state to the stream
            StreamState.from_json(blob, name)  # raises the ConfigError that says what is wrong and how to reset


# --- credentials: refused credentials stop the sync once, instead of once per stream --------------------------


def _check_credentials(config: TwilioConfig) -> None:
    """One request for the main account. If Twilio refuses it (or serves no such active account), the check's probe,
    which retries a transient 401, decides and its message ends the sync here; a success, network trouble and server
    errors are left to the sync and its retries. Subaccounts selected by SID must be the account's."""
    with requests.Session() as session:
        session.auth = credentials_for(config)
        url = f"{config.api_base}/2010-04-01/Accounts/{config.account_sid}.json"
        try:
            response = session.get(url, timeout=PROBE_TIMEOUT_SECONDS)
        except OAuthRefused as error:
            raise _config_error(str(error)) from None
        except requests.RequestException:
            return
        refused = response.status_code in (401, 403, 404)
        inactive = response.status_code == 200 and _status_of(response) not in (None, "active")
        succeeded, message = probe(config) if refused or inactive else selection_problem(session, config)
    if not succeeded and message:
        raise _config_error(message)


def _status_of(response: requests.Response) -> Any:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("status") if isinstance(body, Mapping) else None


# --- output ---------------------------------------------------------------------------------------------------


def _first_problem(error: Exception) -> str:
    lines = [line.strip(" -") for line in str(error).splitlines() if line.strip(" -")]
    details = [line for line in lines if not line.lower().startswith("schema validation failed")]
    return _shorten("; ".join(details[:2]) or type(error).__name__, 300)


def _shorten(value: str, limit: int = 40) -> str:
    return value if len(value) <= limit else value[:limit] + "..."


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
