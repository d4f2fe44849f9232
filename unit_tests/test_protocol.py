"""``protocol`` against the CDK's own serializers (serpyco-rs): the same JSON for every message dumped, and for every
value loaded either the same instance or ``NotPlain`` (the real serializer decides), never an answer of its own.

Messages are generated from the protocol models' type hints, so a field the CDK adds is generated too."""

from __future__ import annotations

import dataclasses
import types
import typing
from enum import Enum
from typing import Any, Union

import orjson
import pytest
from airbyte_cdk.models import (
    AirbyteMessage,
    AirbyteMessageSerializer,
    AirbyteStateMessage,
    AirbyteStateMessageSerializer,
    ConfiguredAirbyteCatalog,
    ConfiguredAirbyteCatalogSerializer,
)
from airbyte_cdk.models.airbyte_protocol import AirbyteStateBlob
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integration_tests.connector_runner import ALL_STREAMS, catalog_for
from source_twilio import protocol

PROPERTIES = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

keys = st.text(max_size=6)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False) | keys,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
    max_leaves=8,
)
json_objects = st.dictionaries(keys, json_values, max_size=4)


def instances(hint: Any) -> st.SearchStrategy[Any]:
    """Values of a protocol model's field type, as the CDK builds them (all of them, but ``Any``, in JSON)."""
    origin, arguments = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Annotated:
        return instances(arguments[0])
    if origin in (Union, types.UnionType):
        return st.one_of(*(st.none() if argument is type(None) else instances(argument) for argument in arguments))
    if origin is list:
        return st.lists(instances(arguments[0]), max_size=2)
    if origin is dict:
        return json_objects
    if hint is Any:
        return json_values
    if hint is AirbyteStateBlob:
        return json_objects.map(AirbyteStateBlob)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return st.sampled_from(list(hint))
    if hint is bool:
        return st.booleans()
    if hint is int:
        return st.integers(-(2**53), 2**53)
    if hint is float:
        return st.integers(0, 2**40) | st.floats(0, 2e12)
    if hint is str:
        return keys
    assert dataclasses.is_dataclass(hint), hint
    hints = typing.get_type_hints(hint, include_extras=True)
    fields = {field.name: st.deferred(lambda h=hints[field.name]: instances(h)) for field in dataclasses.fields(hint)}
    return st.builds(hint, **fields)


MODELS = [
    (AirbyteMessage, AirbyteMessageSerializer),
    (AirbyteStateMessage, AirbyteStateMessageSerializer),
    (ConfiguredAirbyteCatalog, ConfiguredAirbyteCatalogSerializer),
]


@pytest.mark.parametrize("model, serializer", MODELS, ids=lambda value: getattr(value, "__name__", ""))
@PROPERTIES
@given(data=st.data())
def test_given_any_message_when_dumped_then_the_json_is_the_cdks(model, serializer, data):
    message = data.draw(instances(model))
    assert orjson.dumps(protocol.dump(message)) == orjson.dumps(serializer.dump(message))


def mutated(value: Any, draw: Any) -> Any:
    """A well-formed message's JSON with one part dropped, nulled or replaced by another JSON value."""
    if isinstance(value, dict) and value:
        key = draw(st.sampled_from(sorted(value)))
        change = draw(st.sampled_from(["drop", "null", "replace", "descend"]))
        copy = dict(value)
        if change == "drop":
            del copy[key]
        elif change == "null":
            copy[key] = None
        elif change == "replace":
            copy[key] = draw(json_values)
        else:
            copy[key] = mutated(value[key], draw)
        return copy
    if isinstance(value, list) and value:
        position = draw(st.integers(0, len(value) - 1))
        return [*value[:position], mutated(value[position], draw), *value[position + 1 :]]
    return draw(json_values)


@pytest.mark.parametrize("model, serializer", MODELS, ids=lambda value: getattr(value, "__name__", ""))
@PROPERTIES
@given(data=st.data())
def test_given_any_json_when_loaded_then_the_cdks_instance_or_left_to_the_cdk(model, serializer, data):
    value = serializer.dump(data.draw(instances(model)))
    if data.draw(st.booleans()):
        value = mutated(value, data.draw)
    try:
        ours = protocol.load(model, value)
    except protocol.NotPlain:
        return
    assert ours == serializer.load(value)  # and the CDK's serializer accepts it too (it raises otherwise)


def test_given_the_connectors_catalog_and_a_state_when_loaded_then_nothing_is_left_to_the_cdk():
    catalog = catalog_for(ALL_STREAMS, "incremental")
    assert protocol.load(ConfiguredAirbyteCatalog, catalog) == ConfiguredAirbyteCatalogSerializer.load(catalog)
    state = {
        "type": "STREAM",
        "stream": {"stream_descriptor": {"name": "messages"}, "stream_state": {"cursors": {"AC1": "2026-01-01"}}},
        "sourceStats": {"recordCount": 3.0},
    }
    assert protocol.load(AirbyteStateMessage, state) == AirbyteStateMessageSerializer.load(state)


@pytest.mark.parametrize(
    "value",
    [
        {"type": "STREAM", "sourceStats": {"recordCount": True}},  # serpyco-rs takes a bool for a float
        {"type": "STREAM", "stream": {"stream_descriptor": {"name": 1}}},  # and refuses a number for a string
        {"type": "PER_STREAM"},
        [],
    ],
)
def test_given_json_serpyco_converts_or_refuses_when_loaded_then_it_is_left_to_the_cdk(value):
    with pytest.raises(protocol.NotPlain):
        protocol.load(AirbyteStateMessage, value)
