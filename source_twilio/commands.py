"""``spec`` and ``check`` answered without the CDK's source framework, which only ``discover`` and ``read`` use.

Importing the CDK's ``AbstractSource`` and ``HttpStream`` (pydantic, jsonschema's schema helpers, requests-cache,
the rate limiter) is most of what these two commands took. Here they are the same answers, from the same
functions (``spec.yaml`` as the CDK loads it, ``checking.probe``), in the same messages: the CDK's logger, its
"Check succeeded" / "Check failed" lines, the config's secrets masked in every log line, and an unexpected error
reported as the CDK's uncaught-error TRACE message. The lines are the CDK's serializer's, written by ``protocol``:
building that serializer took longer than the rest of ``spec`` (see ``startup``).

Only the plain forms are answered here (``spec``; ``check --config FILE``); any other argument (``--debug``, a
typo for the CDK to report) goes the CDK's way.
"""

from __future__ import annotations

import functools
import json
import pkgutil
import sys
from collections.abc import Mapping
from typing import Any

import orjson
import yaml
from airbyte_cdk.exception_handler import init_uncaught_exception_handler
from airbyte_cdk.logger import init_logger
from airbyte_cdk.models import (
    AirbyteConnectionStatus,
    AirbyteMessage,
    ConnectorSpecification,
    Status,
    Type,
)
from airbyte_cdk.utils.airbyte_secrets_utils import get_secrets, update_secrets
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_twilio import protocol
from source_twilio.checking import probe
from source_twilio.config import TwilioConfig, announce_emulator


@functools.cache
def load_spec() -> ConnectorSpecification:
    """The package's ``spec.yaml``, as the CDK's ``Connector.spec`` loads it; once per process (``preflight`` and
    ``check`` both need it)."""
    text = pkgutil.get_data("source_twilio", "spec.yaml")
    assert text is not None
    return ConnectorSpecification(**yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))


def answered(args: list[str]) -> bool:
    """Answers ``spec`` or ``check`` in their plain forms; False, having written nothing, for anything else."""
    if args == ["spec"]:
        _write(AirbyteMessage(type=Type.SPEC, spec=load_spec()))
        return True
    if len(args) == 3 and args[0] == "check" and args[1] == "--config":
        _check(args[2])
        return True
    return False


def _check(config_path: str) -> None:
    """The file was read and checked against the spec by ``preflight`` already."""
    logger = init_logger("airbyte")
    init_uncaught_exception_handler(logger)
    with open(config_path, encoding="utf-8") as handle:
        config: Mapping[str, Any] = json.load(handle)
    update_secrets(get_secrets(load_spec().connectionSpecification, config))
    try:
        twilio_config = TwilioConfig.from_mapping(config)
        announce_emulator(twilio_config)
        succeeded, message = probe(twilio_config)
    except AirbyteTracedException as error:
        succeeded, message = False, error.message
    if succeeded:
        logger.info("Check succeeded")
        status = AirbyteConnectionStatus(status=Status.SUCCEEDED, message=message)
    else:
        logger.error("Check failed")
        status = AirbyteConnectionStatus(status=Status.FAILED, message=str(message))
    _write(AirbyteMessage(type=Type.CONNECTION_STATUS, connectionStatus=status))


def _write(message: AirbyteMessage) -> None:
    """As the CDK's entry point writes a message (``AirbyteEntrypoint.airbyte_message_to_string``)."""
    sys.stdout.write(orjson.dumps(protocol.dump(message)).decode() + "\n")
    sys.stdout.flush()
