"""The stream schemas: generated from Twilio's OpenAPI specs, complete, nullable, and able to hold
what Twilio sends once the connector has converted it.

Tests that read the specs take them from ``vendor/twilio-oai`` (or ``$TWILIO_OAI_DIR``).
"""

from __future__ import annotations

import email.utils
import json
import os
import re
from collections.abc import Iterator
from datetime import date, datetime, timezone
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tools.generate_schemas import (
    CONNECTOR_ADDED_FIELDS,
    DEFAULT_SPEC_DIR,
    KEPT_AS_STRING,
    NUMERIC_STRING_FIELDS,
    SCHEMAS_DIR,
    STREAM_COMPONENTS,
    build_schema,
    render_schema,
)

SPEC_DIR = Path(os.environ.get("TWILIO_OAI_DIR", DEFAULT_SPEC_DIR))

STREAMS = sorted(STREAM_COMPONENTS)
SECRET_FIELDS = {"accounts": {"auth_token"}}
SINGLE_OBJECT_STREAMS = {"balance"}  # one record per account: the endpoint returns it, not a list
SPEC_TIMESTAMP_FORMATS = {"date-time-rfc-2822", "date-time"}
STREAMS_WITHOUT_ACCOUNT_SID_ON_THE_WIRE = {
    "keys",
    "available_phone_number_countries",
    "available_phone_numbers_local",
    "available_phone_numbers_mobile",
    "available_phone_numbers_toll_free",
}

RFC_3339_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
NUMERIC_LOOKING = re.compile(r"-?\d+(\.\d+)?")
DATE_LOOKING = re.compile(r"\d{4}-\d{2}-\d{2}|[A-Z][a-z]{2}, \d{1,2} [A-Z][a-z]{2} \d{4}")

# Draft 7 leaves formats unchecked and jsonschema's own date-time check needs an extra package, so the
# two formats the schemas use are checked here: an unconverted RFC 2822 timestamp must fail.
FORMAT_CHECKER = jsonschema.FormatChecker(formats=())


@FORMAT_CHECKER.checks("date-time")
def _is_rfc_3339_date_time(value: object) -> bool:
    return not isinstance(value, str) or RFC_3339_DATE_TIME.fullmatch(value) is not None


@FORMAT_CHECKER.checks("date", raises=ValueError)
def _is_full_date(value: object) -> bool:
    return not isinstance(value, str) or (len(value) == 10 and date.fromisoformat(value) is not None)


# --- helpers --------------------------------------------------------------------------------------


def committed_schema(stream: str) -> dict[str, Any]:
    return json.loads((SCHEMAS_DIR / f"{stream}.json").read_text(encoding="utf-8"))


@cache
def load_spec(spec_file: str) -> dict[str, Any]:
    return json.loads((SPEC_DIR / spec_file).read_text(encoding="utf-8"))


def spec_properties(stream: str) -> dict[str, Any]:
    spec_file, component = STREAM_COMPONENTS[stream]
    return load_spec(spec_file)["components"]["schemas"][component]["properties"]


def list_responses(stream: str) -> Iterator[dict[str, Any]]:
    """The 200 JSON responses of the spec's GET endpoints that list records of the stream's component."""
    spec_file, component = STREAM_COMPONENTS[stream]
    for operations in load_spec(spec_file)["paths"].values():
        response = operations.get("get", {}).get("responses", {}).get("200", {}).get("content", {})
        body = response.get("application/json", {})
        listed = body.get("schema", {}).get("properties", {}).values()
        if any(field.get("items", {}).get("$ref") == f"#/components/schemas/{component}" for field in listed):
            yield body


def fetch_responses(stream: str) -> Iterator[dict[str, Any]]:
    """The 200 JSON responses of the spec's GET endpoints that return one record of the stream's component."""
    spec_file, component = STREAM_COMPONENTS[stream]
    for operations in load_spec(spec_file)["paths"].values():
        response = operations.get("get", {}).get("responses", {}).get("200", {}).get("content", {})
        body = response.get("application/json", {})
        if body.get("schema", {}).get("$ref") == f"#/components/schemas/{component}":
            yield body


def example_records(stream: str) -> list[dict[str, Any]]:
    """The spec's example records of the stream: from its list endpoints, else (Studio's executions and steps,
    whose lists have none; the balance, which is one object) from the endpoints that fetch one."""
    records = []
    for body in list_responses(stream):
        for example in body.get("examples", {}).values():
            for value in example["value"].values():
                if isinstance(value, list):
                    records.extend(value)
    if not records:
        for body in fetch_responses(stream):
            records.extend(example["value"] for example in body.get("examples", {}).values())
    return records


def to_iso_utc(value: str) -> str:
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def convert(record: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """A stand-in for the connector's conversion, driven by the schema only."""
    converted = dict(record)
    for name, value in record.items():
        declared = schema["properties"].get(name)
        if declared is None or not isinstance(value, str):
            continue
        types, value_format = declared["type"], declared.get("format")
        if value == "" and (value_format or "integer" in types or "number" in types):
            converted[name] = None
        elif value_format == "date-time":
            converted[name] = to_iso_utc(value)
        elif "integer" in types:
            converted[name] = int(value)
        elif "number" in types:
            converted[name] = float(value)
    return converted


def validation_errors(record: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(schema, format_checker=FORMAT_CHECKER)
    return [f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(record)]


def walk_subschemas(schema: dict[str, Any], where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    yield where or "<root>", schema
    for name, child in schema.get("properties", {}).items():
        yield from walk_subschemas(child, f"{where}.{name}")
    if isinstance(schema.get("items"), dict):
        yield from walk_subschemas(schema["items"], f"{where}[]")


# --- the committed files are the generator's output -----------------------------------------------


@pytest.mark.parametrize("stream", STREAMS)
def test_given_the_specs_when_generating_then_the_committed_schema_is_identical(stream: str) -> None:
    generated = render_schema(build_schema(stream, SPEC_DIR))
    committed = (SCHEMAS_DIR / f"{stream}.json").read_text(encoding="utf-8")
    assert committed == generated, f"{stream}.json is stale or hand-edited: run python tools/generate_schemas.py"


def test_given_the_schemas_directory_then_it_holds_exactly_one_schema_per_stream() -> None:
    assert sorted(path.stem for path in SCHEMAS_DIR.glob("*.json")) == STREAMS


# --- the schemas agree with the spec, checked without the generator ------------------------------


@pytest.mark.parametrize("stream", STREAMS)
def test_given_a_stream_then_its_component_is_what_a_spec_list_endpoint_returns(stream: str) -> None:
    found = fetch_responses(stream) if stream in SINGLE_OBJECT_STREAMS else list_responses(stream)
    assert list(found), f"no GET endpoint returns {STREAM_COMPONENTS[stream]}"


@pytest.mark.parametrize("stream", STREAMS)
def test_given_the_spec_component_then_every_property_is_declared_with_its_timestamp_format(stream: str) -> None:
    declared = committed_schema(stream)["properties"]
    for name, spec_property in spec_properties(stream).items():
        if name in SECRET_FIELDS.get(stream, set()):
            continue
        assert name in declared, f"{stream}.{name} is in the spec but not in the schema"
        if spec_property.get("format") in SPEC_TIMESTAMP_FORMATS:
            assert declared[name].get("format") == "date-time", f"{stream}.{name} is a timestamp"
        if spec_property.get("format") == "date":
            assert declared[name].get("format") == "date", f"{stream}.{name} is a date"


@pytest.mark.parametrize("stream", STREAMS)
def test_given_spec_examples_then_every_field_they_carry_is_declared(stream: str) -> None:
    declared = set(committed_schema(stream)["properties"]) | SECRET_FIELDS.get(stream, set())
    for record in example_records(stream):
        assert set(record) <= declared, f"{stream} example fields missing from the schema: {set(record) - declared}"


@pytest.mark.parametrize("stream", STREAMS)
def test_given_a_schema_then_every_top_level_property_is_nullable(stream: str) -> None:
    schema = committed_schema(stream)
    assert schema["properties"]
    for name, declared in schema["properties"].items():
        assert isinstance(declared["type"], list), f"{stream}.{name}"
        assert "null" in declared["type"], f"{stream}.{name} is not nullable"


@pytest.mark.parametrize("stream", STREAMS)
def test_given_a_schema_then_objects_stay_open_and_nothing_is_an_enum(stream: str) -> None:
    schema = committed_schema(stream)
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert list(schema["properties"]) == sorted(schema["properties"])
    for where, subschema in walk_subschemas(schema):
        assert "enum" not in subschema, f"{stream}{where} lists enum values: Twilio adds new ones"
        if "object" in subschema.get("type", []) or subschema.get("type") == "object":
            assert subschema.get("additionalProperties") is True, f"{stream}{where} must allow unknown keys"


def test_given_the_accounts_schema_then_it_never_declares_the_auth_token() -> None:
    assert "auth_token" not in committed_schema("accounts")["properties"]
    assert "auth_token" not in (SCHEMAS_DIR / "accounts.json").read_text(encoding="utf-8")


@pytest.mark.parametrize("stream", sorted(STREAMS_WITHOUT_ACCOUNT_SID_ON_THE_WIRE))
def test_given_a_stream_whose_records_lack_account_sid_then_the_schema_declares_the_added_one(stream: str) -> None:
    assert committed_schema(stream)["properties"]["account_sid"]["type"] == ["null", "string"]
    assert set(CONNECTOR_ADDED_FIELDS) == STREAMS_WITHOUT_ACCOUNT_SID_ON_THE_WIRE


@pytest.mark.parametrize("stream", STREAMS)
def test_given_a_schema_then_it_is_a_valid_draft_7_schema(stream: str) -> None:
    jsonschema.Draft7Validator.check_schema(committed_schema(stream))


# --- what Twilio sends fits the schema once converted ---------------------------------------------


@pytest.mark.parametrize("stream", STREAMS)
def test_given_spec_example_records_when_converted_then_they_validate(stream: str) -> None:
    schema = committed_schema(stream)
    records = example_records(stream)
    assert records, f"the spec has no example {stream} records"
    for record in records:
        assert validation_errors(convert(record, schema), schema) == []


@pytest.mark.parametrize("stream", STREAMS)
def test_given_spec_example_records_when_not_converted_then_wire_strings_are_rejected(stream: str) -> None:
    schema = committed_schema(stream)
    for record in example_records(stream):
        if convert(record, schema) != record:
            assert validation_errors(record, schema), f"an unconverted {stream} record passed validation"


@pytest.mark.parametrize("stream", STREAMS)
def test_given_spec_examples_then_every_numeric_or_date_looking_string_is_converted_or_kept_on_purpose(
    stream: str,
) -> None:
    declared = committed_schema(stream)["properties"]
    for record in example_records(stream):
        for name, value in record.items():
            if not isinstance(value, str) or name not in declared:
                continue
            stays_plain_string = declared[name]["type"] == ["null", "string"] and "format" not in declared[name]
            looks_typed = NUMERIC_LOOKING.fullmatch(value) or DATE_LOOKING.match(value)
            if stays_plain_string and looks_typed:
                assert name in KEPT_AS_STRING, f"{stream}.{name}={value!r}: add it to a type decision table"


@pytest.mark.parametrize("stream", sorted(NUMERIC_STRING_FIELDS))
def test_given_the_numeric_decisions_then_the_schema_types_match(stream: str) -> None:
    declared = committed_schema(stream)["properties"]
    for name, json_type in NUMERIC_STRING_FIELDS[stream].items():
        assert declared[name]["type"] == ["null", json_type], f"{stream}.{name}"


def test_given_wire_timestamps_when_converted_then_they_are_iso_8601_utc() -> None:
    assert to_iso_utc("Thu, 23 Feb 2017 10:26:31 -0800") == "2017-02-23T18:26:31Z"
    assert to_iso_utc("Wed, 19 Jun 2019 22:04:00 -0000") == "2019-06-19T22:04:00Z"
    assert to_iso_utc("2019-06-24T22:32:49+00:00") == "2019-06-24T22:32:49Z"
    assert to_iso_utc("2015-07-30T20:00:00Z") == "2015-07-30T20:00:00Z"
