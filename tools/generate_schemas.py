"""Generate the JSON schemas of the streams from Twilio's OpenAPI specs.

    python tools/generate_schemas.py            # rewrite source_twilio/schemas/<stream>.json
    python tools/generate_schemas.py --check    # exit 1 and show the differences if a file is stale

The specs (twilio/twilio-oai, unmodified) are read from ``vendor/twilio-oai`` in the project,
or from ``--spec-dir``. Every property the spec documents for a stream's record becomes a nullable
property of its schema; the tables below hold every decision the spec alone cannot make: which strings
Twilio sends are really numbers or timestamps, which fields are left out, and which the connector adds.

The connector reads these schemas to convert records (RFC 2822 and ISO timestamps to ISO 8601 UTC for
``format: date-time``, numeric strings to numbers for ``integer``/``number``), so a type here is a promise
about what the connector emits, not only documentation.
"""

from __future__ import annotations

import argparse
import copy
import difflib
import json
import re
import sys
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parents[1]
SCHEMAS_DIR = PROJECT_DIR / "source_twilio" / "schemas"
DEFAULT_SPEC_DIR = Path(__file__).resolve().parents[1] / "vendor" / "twilio-oai"

JSON_SCHEMA_DRAFT_7 = "http://json-schema.org/draft-07/schema#"
API_V2010 = "twilio_api_v2010.json"
MONITOR_V1 = "twilio_monitor_v1.json"
CONVERSATIONS_V1 = "twilio_conversations_v1.json"
STUDIO_V2 = "twilio_studio_v2.json"
TRUNKING_V1 = "twilio_trunking_v1.json"
VERIFY_V2 = "twilio_verify_v2.json"
MESSAGING_V1 = "twilio_messaging_v1.json"
INSIGHTS_V1 = "twilio_insights_v1.json"
PRICING_V1 = "twilio_pricing_v1.json"
PRICING_V2 = "twilio_pricing_v2.json"
_AVAILABLE_NUMBER = "api.v2010.account.available_phone_number_country.available_phone_number"

# stream -> (spec file, record schema in components.schemas). Each component is the `items` of the
# stream's list endpoint in that spec (unit_tests/test_schemas.py checks this).
STREAM_COMPONENTS: dict[str, tuple[str, str]] = {
    "accounts": (API_V2010, "api.v2010.account"),
    "addresses": (API_V2010, "api.v2010.account.address"),
    "dependent_phone_numbers": (API_V2010, "api.v2010.account.address.dependent_phone_number"),
    "applications": (API_V2010, "api.v2010.account.application"),
    "available_phone_number_countries": (API_V2010, "api.v2010.account.available_phone_number_country"),
    "available_phone_numbers_local": (API_V2010, f"{_AVAILABLE_NUMBER}_local"),
    "available_phone_numbers_mobile": (API_V2010, f"{_AVAILABLE_NUMBER}_mobile"),
    "available_phone_numbers_toll_free": (API_V2010, f"{_AVAILABLE_NUMBER}_toll_free"),
    "incoming_phone_numbers": (API_V2010, "api.v2010.account.incoming_phone_number"),
    "keys": (API_V2010, "api.v2010.account.key"),
    "calls": (API_V2010, "api.v2010.account.call"),
    "conferences": (API_V2010, "api.v2010.account.conference"),
    "conference_participants": (API_V2010, "api.v2010.account.conference.participant"),
    "outgoing_caller_ids": (API_V2010, "api.v2010.account.outgoing_caller_id"),
    "recordings": (API_V2010, "api.v2010.account.recording"),
    "transcriptions": (API_V2010, "api.v2010.account.transcription"),
    "queues": (API_V2010, "api.v2010.account.queue"),
    "message_media": (API_V2010, "api.v2010.account.message.media"),
    "messages": (API_V2010, "api.v2010.account.message"),
    "usage_records": (API_V2010, "api.v2010.account.usage.usage_record.usage_record_daily"),
    "usage_triggers": (API_V2010, "api.v2010.account.usage.usage_trigger"),
    "alerts": (MONITOR_V1, "monitor.v1.alert"),
    "conversations": (CONVERSATIONS_V1, "conversations.v1.conversation"),
    "conversation_messages": (CONVERSATIONS_V1, "conversations.v1.conversation.conversation_message"),
    "conversation_participants": (CONVERSATIONS_V1, "conversations.v1.conversation.conversation_participant"),
    "users": (CONVERSATIONS_V1, "conversations.v1.user"),
    "user_conversations": (CONVERSATIONS_V1, "conversations.v1.user.user_conversation"),
    "services": (CONVERSATIONS_V1, "conversations.v1.service"),
    "roles": (CONVERSATIONS_V1, "conversations.v1.role"),
    "flows": (STUDIO_V2, "studio.v2.flow"),
    "executions": (STUDIO_V2, "studio.v2.flow.execution"),
    "step": (STUDIO_V2, "studio.v2.flow.execution.execution_step"),
    "trunks": (TRUNKING_V1, "trunking.v1.trunk"),
    "verify_services": (VERIFY_V2, "verify.v2.service"),
    "verify_attempts": (VERIFY_V2, "verify.v2.verification_attempt"),
    "messaging_services": (MESSAGING_V1, "messaging.v1.service"),
    "messaging_service_phone_numbers": (MESSAGING_V1, "messaging.v1.service.phone_number"),
    "call_summaries": (INSIGHTS_V1, "insights.v1.call_summaries"),
    "monitor_events": (MONITOR_V1, "monitor.v1.event"),
    "balance": (API_V2010, "api.v2010.account.balance"),
    "voice_pricing_countries": (PRICING_V2, "pricing.v2.voice.voice_country"),
    "messaging_pricing_countries": (PRICING_V1, "pricing.v1.messaging.messaging_country"),
    "phone_number_pricing_countries": (PRICING_V1, "pricing.v1.phone_number.phone_number_country"),
}

# --- Type decisions -------------------------------------------------------------------------------
# Every string field of the 22 records was reviewed against the spec's descriptions and examples and
# twilio-api.md section 2. Strings not listed here stay strings.

_SECONDS = "whole seconds sent as a string"
_AVAILABLE_NUMBER_COORDINATES = {
    "latitude": ("number", 'the spec says number, Twilio sends a string ("19.720000"); null outside US/CA'),
    "longitude": ("number", 'the spec says number, Twilio sends a string ("-155.090000"); null outside US/CA'),
}

# stream -> field -> (JSON type the connector emits, why). The value Twilio sends is a string (or
# empty/null); the connector parses it. Includes fields the spec already types as numbers where the
# wire still carries strings, since those need the same parsing.
WIRE_TYPE_DECISIONS: dict[str, dict[str, tuple[str, str]]] = {
    "calls": {
        "duration": ("integer", f'{_SECONDS} ("4"); empty for busy, failed, unanswered or ongoing calls'),
        "price": ("number", 'signed decimal string ("-0.200"); null until Twilio has priced the call'),
        "queue_time": ("integer", 'milliseconds sent as a string ("1000")'),
    },
    "conference_participants": {
        "queue_time": ("integer", "milliseconds sent as a string; null in lists (set on create only)"),
    },
    "recordings": {
        "duration": ("integer", f'{_SECONDS} ("4")'),
        "price": ("number", 'decimal string ("0.04"); null until priced'),
    },
    "transcriptions": {
        "duration": ("integer", f'{_SECONDS} ("10")'),
        "price": ("number", 'the spec says number, Twilio sends a string ("0.00000")'),
    },
    "messages": {
        "num_media": ("integer", 'a count sent as a string ("0")'),
        "num_segments": ("integer", 'a count sent as a string ("1"); "0" until a Messaging Service picks a sender'),
        "price": ("number", 'signed decimal string ("-0.00750"); null until priced'),
    },
    "usage_records": {
        "count": ("number", 'a quantity sent as a string ("0"); number, not integer: Twilio does not promise whole'),
        "usage": ("number", 'an amount in usage_unit sent as a string ("0"); fractional for minutes and money'),
        "price": ("number", 'the spec says number, Twilio sends a string ("0")'),
    },
    "usage_triggers": {
        "current_value": ("number", 'current count, usage or price sent as a string ("0")'),
        "trigger_value": ("number", 'threshold sent as a string ("50"); the spec: "a positive, numeric value"'),
    },
    "balance": {"balance": ("number", 'the account balance as a decimal string ("0.10")')},
    "available_phone_numbers_local": _AVAILABLE_NUMBER_COORDINATES,
    "available_phone_numbers_mobile": _AVAILABLE_NUMBER_COORDINATES,
    "available_phone_numbers_toll_free": _AVAILABLE_NUMBER_COORDINATES,
}

# The same decisions without the reasons: stream -> field -> "integer" | "number".
NUMERIC_STRING_FIELDS: dict[str, dict[str, str]] = {
    stream: {field: json_type for field, (json_type, _) in fields.items()}
    for stream, fields in WIRE_TYPE_DECISIONS.items()
}

# Strings that look like numbers or dates but stay strings, wherever the spec types them as strings.
KEPT_AS_STRING: dict[str, str] = {
    "api_version": 'a version label ("2010-04-01", "2008-08-01"), not a date of the record',
    "error_code": 'Monitor alerts send a code ("30007"): an identifier, not a quantity (messages and '
    "recordings keep the spec's integer)",
    "friendly_name": 'free text that may look numeric ("0.361280134646222", "3197004499318")',
    "lata": 'a 3-digit LATA code ("834"): an identifier, leading zeros matter',
    "postal_code": "postal codes keep leading zeros and may hold letters",
}

# Spec `format`s that mark timestamps: the connector emits them as ISO 8601 UTC (`format: date-time`).
SPEC_TIMESTAMP_FORMATS = frozenset({"date-time-rfc-2822", "date-time"})
# Spec `format`s kept as they are.
SPEC_KEPT_FORMATS = frozenset({"date"})
# Spec `format`s dropped: descriptive only, and Twilio sends values that would break them ("" for a uri).
SPEC_IGNORED_FORMATS = frozenset(
    {"uri", "uri-map", "http-method", "phone-number", "currency", "iso-country-code", "phone-number-capabilities"}
)

# stream -> field -> (format, why) for strings the spec leaves without a format.
FORMAT_DECISIONS: dict[str, dict[str, tuple[str, str]]] = {
    "usage_records": {
        "as_of": ("date-time", 'sent as "YYYY-MM-DDTHH:MM:SS+00:00" (spec description); a plain string in the spec'),
    },
}

# stream -> field -> (JSON type, why) for properties the spec declares without any type.
UNTYPED_FIELD_DECISIONS: dict[str, dict[str, tuple[str, str]]] = {
    "dependent_phone_numbers": {
        "capabilities": ("object", 'the spec example is {"Voice": false, "SMS": true, "MMS": false}'),
    },
    "recordings": {
        "encryption_details": ("object", "the spec example holds encryption_public_key_sid, encryption_cek and iv"),
    },
    "conversations": {
        "timers": ("object", "the spec: the timers' ISO 8601 date_inactive and date_closed"),
        "bindings": ("object", "Twilio's SDKs read it as a JSON object"),
    },
    "conversation_messages": {
        "delivery": ("object", "the spec: a summary of delivery statuses (total, sent, delivered, read, ...)"),
    },
    "conversation_participants": {
        "messaging_binding": ("object", "the spec: type, address and proxy_address of a non-chat participant"),
    },
    "user_conversations": {
        "timers": ("object", "the spec: the conversation's timers (date_inactive, date_closed)"),
    },
    "flows": {"definition": ("object", "the flow's JSON definition (description, states, ...)")},
    "executions": {"context": ("object", "the execution's JSON context")},
    "step": {"context": ("object", "the step's JSON context")},
    "trunks": {"recording": ("object", 'the spec example is {"mode": "do-not-record", "trim": "do-not-trim"}')},
    "verify_services": {
        "push": ("object", "the spec: the service's push configuration"),
        "totp": ("object", "the spec: the service's TOTP configuration"),
        "whatsapp": ("object", "the spec: the service's WhatsApp configuration"),
        "passkeys": ("object", "the spec: the service's passkeys configuration"),
    },
    "verify_attempts": {
        "price": ("object", 'the spec example is {"value": "0.05", "currency": "usd"}'),
        "channel_data": ("object", "the spec: the channel's details (to, carrier, ...)"),
    },
    "call_summaries": {
        name: ("object", "a JSON object of the summary (the spec's examples)")
        for name in (
            "from",
            "to",
            "carrier_edge",
            "client_edge",
            "sdk_edge",
            "sip_edge",
            "attributes",
            "properties",
            "trust",
            "annotation",
        )
    },
    "monitor_events": {"event_data": ("object", "the event's changes, by field (previous, updated)")},
}

# stream -> field -> why: spec properties left out of the schema (the connector drops them too).
OMITTED_FIELDS: dict[str, dict[str, str]] = {
    "accounts": {"auth_token": "the account's Auth Token: a secret the connector never emits"},
}

_ACCOUNT_SID_ADDED = {
    "type": ["null", "string"],
    "description": "The SID of the Account the record was read for. Added by the connector: Twilio's record lacks it.",
}
# stream -> field -> property schema: fields the connector adds because the wire record lacks them.
CONNECTOR_ADDED_FIELDS: dict[str, dict[str, dict[str, Any]]] = {
    "keys": {"account_sid": _ACCOUNT_SID_ADDED},
    "available_phone_number_countries": {"account_sid": _ACCOUNT_SID_ADDED},
    "available_phone_numbers_local": {"account_sid": _ACCOUNT_SID_ADDED},
    "available_phone_numbers_mobile": {"account_sid": _ACCOUNT_SID_ADDED},
    "available_phone_numbers_toll_free": {"account_sid": _ACCOUNT_SID_ADDED},
}


def _subresource_uris(names: str) -> dict[str, Any]:
    return {
        "type": ["null", "object"],
        "additionalProperties": True,
        "description": f"URIs of the record's subresources ({names}), relative to https://api.twilio.com. Twilio "
        "sends it though the spec's record lacks it.",
    }


# stream -> field -> property schema: fields Twilio sends that the spec's record does not declare (a destination that
# follows the schema would drop them).
SENT_BEYOND_THE_SPEC: dict[str, dict[str, dict[str, Any]]] = {
    "incoming_phone_numbers": {"subresource_uris": _subresource_uris("assigned_add_ons")},
    "queues": {"subresource_uris": _subresource_uris("members")},
}

_UNSUPPORTED_KEYWORDS = ("allOf", "anyOf", "oneOf", "not", "additionalProperties")
_SENTENCE_END = re.compile(r"[.!?](?=\s+[A-Z`\[(]|$)")
_ABBREVIATIONS = ("e.g.", "i.e.", "etc.")
# The connector emits RFC 2822 timestamps as ISO 8601, so descriptions must not promise RFC 2822.
_RFC_2822_MENTION = re.compile(r"\[RFC 2822\]\([^)]*\)|RFC 2822")


class SchemaGenerationError(Exception):
    """The spec holds something no decision covers: decide it in the tables above."""


@cache
def load_spec(spec_dir: Path, spec_file: str) -> dict[str, Any]:
    path = spec_dir / spec_file
    if not path.is_file():
        raise SchemaGenerationError(f"{path} not found: pass --spec-dir pointing at a twilio-oai spec/json copy")
    return json.loads(path.read_text(encoding="utf-8"))


def component_schema(stream: str, spec_dir: Path = DEFAULT_SPEC_DIR) -> dict[str, Any]:
    """The spec's record schema for `stream`, as written in the spec (refs unresolved)."""
    spec_file, component = STREAM_COMPONENTS[stream]
    schemas = load_spec(spec_dir, spec_file)["components"]["schemas"]
    if component not in schemas:
        raise SchemaGenerationError(f"{spec_file} has no components.schemas[{component!r}] (stream {stream})")
    return schemas[component]


def build_schema(stream: str, spec_dir: Path = DEFAULT_SPEC_DIR) -> dict[str, Any]:
    """The JSON schema (draft 7) of `stream`'s records, as the connector emits them."""
    spec_file, component = STREAM_COMPONENTS[stream]
    spec = load_spec(spec_dir, spec_file)
    spec_properties: Mapping[str, Any] = component_schema(stream, spec_dir)["properties"]
    _check_decisions_name_spec_fields(stream, spec_properties)

    properties: dict[str, Any] = {}
    for name, spec_property in spec_properties.items():
        if name in OMITTED_FIELDS.get(stream, {}):
            continue
        properties[name] = _top_level_property(stream, name, _resolve(spec, spec_property))
    for name, added in {**CONNECTOR_ADDED_FIELDS.get(stream, {}), **SENT_BEYOND_THE_SPEC.get(stream, {})}.items():
        properties.setdefault(name, copy.deepcopy(added))

    return {
        "$schema": JSON_SCHEMA_DRAFT_7,
        "$comment": f"Generated by tools/generate_schemas.py from {spec_file} components.schemas[{component}]. "
        "Do not edit: change the generator's tables and rerun it.",
        "type": "object",
        "additionalProperties": True,
        "properties": dict(sorted(properties.items())),
    }


def render_schema(schema: Mapping[str, Any]) -> str:
    """The exact text of a schema file: 2-space indent, trailing newline."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def schema_path(stream: str, schemas_dir: Path = SCHEMAS_DIR) -> Path:
    return schemas_dir / f"{stream}.json"


def _check_decisions_name_spec_fields(stream: str, spec_properties: Mapping[str, Any]) -> None:
    tables = {
        "WIRE_TYPE_DECISIONS": WIRE_TYPE_DECISIONS,
        "FORMAT_DECISIONS": FORMAT_DECISIONS,
        "UNTYPED_FIELD_DECISIONS": UNTYPED_FIELD_DECISIONS,
        "OMITTED_FIELDS": OMITTED_FIELDS,
    }
    for table_name, table in tables.items():
        stale = sorted(set(table.get(stream, {})) - set(spec_properties))
        if stale:
            raise SchemaGenerationError(f"{table_name}[{stream!r}] names fields the spec lacks: {stale}")


def _resolve(spec: Mapping[str, Any], node: Mapping[str, Any]) -> dict[str, Any]:
    """`node` with a local `$ref` replaced by its target (the node's own keys win, e.g. `description`)."""
    if "$ref" not in node:
        return dict(node)
    ref = node["$ref"]
    if not ref.startswith("#/"):
        raise SchemaGenerationError(f"only local $refs are supported, got {ref}")
    target: Any = spec
    for part in ref[2:].split("/"):
        target = target[part.replace("~1", "/").replace("~0", "~")]
    siblings = {key: value for key, value in node.items() if key != "$ref"}
    return {**_resolve(spec, target), **siblings}


def _top_level_property(stream: str, name: str, spec_property: Mapping[str, Any]) -> dict[str, Any]:
    where = f"{stream}.{name}"
    spec_type = spec_property.get("type")
    if spec_type is None:
        if name not in UNTYPED_FIELD_DECISIONS.get(stream, {}):
            raise SchemaGenerationError(f"{where} has no type in the spec: add it to UNTYPED_FIELD_DECISIONS")
        spec_type = UNTYPED_FIELD_DECISIONS[stream][name][0]

    json_type = spec_type
    if name in WIRE_TYPE_DECISIONS.get(stream, {}):
        json_type = WIRE_TYPE_DECISIONS[stream][name][0]
        if spec_type not in ("string", json_type):
            raise SchemaGenerationError(f"{where}: the spec types it {spec_type}, refusing to emit {json_type}")

    spec_format = spec_property.get("format")
    json_format = None
    if spec_format in SPEC_TIMESTAMP_FORMATS:
        json_format = "date-time"
    elif spec_format in SPEC_KEPT_FORMATS:
        json_format = spec_format
    elif spec_format is not None and spec_format not in SPEC_IGNORED_FORMATS:
        raise SchemaGenerationError(f"{where} has spec format {spec_format!r}: classify it in the SPEC_*_FORMATS sets")
    if name in FORMAT_DECISIONS.get(stream, {}):
        json_format = FORMAT_DECISIONS[stream][name][0]
    if json_format is not None and json_type != "string":
        raise SchemaGenerationError(f"{where}: format {json_format} on a {json_type}")

    return _property(where, json_type, json_format, spec_property)


def _nested_property(where: str, spec_property: Mapping[str, Any]) -> dict[str, Any]:
    """Inside objects and arrays the connector converts nothing: spec types as they are, no formats."""
    spec_type = spec_property.get("type")
    if spec_type is None:
        return {"description": d} if (d := _first_sentence(spec_property.get("description"))) else {}
    return _property(where, spec_type, None, spec_property)


def _property(where: str, json_type: str, json_format: str | None, spec_property: Mapping[str, Any]) -> dict[str, Any]:
    unsupported = [key for key in _UNSUPPORTED_KEYWORDS if key in spec_property]
    if unsupported:
        raise SchemaGenerationError(f"{where} uses {unsupported}: the generator does not handle them")
    result: dict[str, Any] = {"type": ["null", json_type]}
    if json_format is not None:
        result["format"] = json_format
    converted_from_rfc_2822 = json_format == "date-time" and spec_property.get("format") == "date-time-rfc-2822"
    description = _describe(spec_property.get("description"), converted_from_rfc_2822)
    if description:
        result["description"] = description
    if json_type == "object":
        result["additionalProperties"] = True
        nested = spec_property.get("properties") or {}
        if nested:
            result["properties"] = {
                key: _nested_property(f"{where}.{key}", value) for key, value in sorted(nested.items())
            }
    elif json_type == "array" and "items" in spec_property:
        result["items"] = _nested_property(f"{where}[]", spec_property["items"])
    return result


def _first_sentence(description: str | None) -> str | None:
    """The first sentence of a spec description, whitespace collapsed; "(e.g. `USD`)" does not end it."""
    if not description:
        return None
    text = " ".join(description.split())
    for boundary in _SENTENCE_END.finditer(text):
        sentence = text[: boundary.end()]
        balanced = sentence.count("(") == sentence.count(")") and sentence.count("[") == sentence.count("]")
        if balanced and not sentence.endswith(_ABBREVIATIONS):
            return sentence
    return text


def _describe(description: str | None, converted_from_rfc_2822: bool) -> str | None:
    sentence = _first_sentence(description)
    if sentence and converted_from_rfc_2822:
        sentence = _RFC_2822_MENTION.sub("ISO 8601", sentence)
    return sentence


def generate_all(spec_dir: Path = DEFAULT_SPEC_DIR) -> dict[str, str]:
    """stream -> rendered schema text, for all streams."""
    return {stream: render_schema(build_schema(stream, spec_dir)) for stream in STREAM_COMPONENTS}


def stale_files(rendered: Mapping[str, str], schemas_dir: Path = SCHEMAS_DIR) -> dict[str, str]:
    """stream -> unified diff (committed -> generated) for every schema file that differs or is missing."""
    differences = {}
    for stream, text in rendered.items():
        path = schema_path(stream, schemas_dir)
        current = path.read_text(encoding="utf-8") if path.is_file() else ""
        if current != text:
            diff = difflib.unified_diff(
                current.splitlines(keepends=True),
                text.splitlines(keepends=True),
                fromfile=f"{path} (committed)" if current else f"{path} (missing)",
                tofile=f"{path} (generated)",
            )
            differences[stream] = "".join(diff)
    return differences


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec-dir", type=Path, default=DEFAULT_SPEC_DIR, help="twilio-oai spec/json directory")
    parser.add_argument("--schemas-dir", type=Path, default=SCHEMAS_DIR, help=argparse.SUPPRESS)
    parser.add_argument("--check", action="store_true", help="exit 1 if a schema file differs from the generated one")
    args = parser.parse_args(argv)

    try:
        rendered = generate_all(args.spec_dir.resolve())
    except SchemaGenerationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    if args.check:
        differences = stale_files(rendered, args.schemas_dir)
        for diff in differences.values():
            sys.stdout.write(diff)
        if differences:
            print(
                f"\n{len(differences)} schema file(s) out of date: {', '.join(sorted(differences))}.", file=sys.stderr
            )
            print("Run: python tools/generate_schemas.py", file=sys.stderr)
            return 1
        print(f"All {len(rendered)} schema files are up to date.")
        return 0

    args.schemas_dir.mkdir(parents=True, exist_ok=True)
    for stream, text in rendered.items():
        schema_path(stream, args.schemas_dir).write_text(text, encoding="utf-8")
    print(f"Wrote {len(rendered)} schema files to {args.schemas_dir}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
