"""The Airbyte protocol's messages to and from JSON values, as the CDK's serializers (serpyco-rs) dump and load them.

Importing serpyco-rs and building the CDK's serializers took a tenth of every ``read``'s start-up (0.18 of 1.82 G
instructions, 3% of a 60,000-message read), for one catalog, a few STATE and LOG lines. In the connector's own
process the serializers are stand-ins (``startup``) that answer with this module: ``dump`` for every message,
``load`` for what it can tell is well-formed. Anything else (a value of the wrong type, a missing field, a union)
is ``NotPlain``, and the real serializer, built then, loads it or says what is wrong, in its own words.

What serpyco-rs does, and so does this: fields in their order, under their ``Alias`` if they have one; a None
field left out (``omit_none``), and a dict field's None values too, at its top level only; enums as their values;
``AirbyteStateBlob`` as its attributes, nulls included (the CDK's custom type); ``Any`` as it is; on load, dicts as
they are and extra keys ignored.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable
from enum import Enum
from typing import Any, Union

from airbyte_cdk.models.airbyte_protocol import AirbyteStateBlob
from serpyco_rs.metadata import Alias


class NotPlain(Exception):
    """A value ``load`` leaves to the CDK's serializer."""


def dump(value: Any) -> Any:
    """A protocol message (or any of its parts) as the JSON value the CDK's serializer dumps."""
    if value.__class__ is AirbyteStateBlob:
        return dict(value.__dict__)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [dump(item) for item in value]
    if isinstance(value, dict):  # a mapping of the model's own (not one inside it, nor a custom type's) drops its nulls
        return {key: item for key, item in value.items() if item is not None}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        dumped = {}
        for attribute, key in _keys(value.__class__):
            field = getattr(value, attribute)
            if field is not None:
                dumped[key] = dump(field)
        return dumped
    return value


def load(model: type, value: Any) -> Any:
    """``value`` as an instance of ``model``, as the CDK's serializer loads it; ``NotPlain`` for anything but
    well-formed values of the types the protocol's models use."""
    return _loader(model)(value)


@functools.cache
def _keys(cls: type) -> tuple[tuple[str, str], ...]:
    """Each field's attribute and its key in JSON."""
    hints = typing.get_type_hints(cls, include_extras=True)
    return tuple((field.name, _alias(hints[field.name]) or field.name) for field in dataclasses.fields(cls))


def _alias(hint: Any) -> str | None:
    aliases = [item.value for item in getattr(hint, "__metadata__", ()) if isinstance(item, Alias)]
    return aliases[0] if aliases else None


Loader = Callable[[Any], Any]

_SCALARS: dict[Any, tuple[type, ...]] = {str: (str,), bool: (bool,), int: (int,), float: (int, float)}


@functools.cache
def _loader(hint: Any) -> Loader:
    origin, arguments = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Annotated:
        return _loader(arguments[0])
    if origin in (Union, types.UnionType):
        others = [argument for argument in arguments if argument is not type(None)]
        if len(others) != 1 or len(arguments) != 2:
            return _not_plain
        return _optional(_loader(others[0]))
    if origin is list:
        return _list_of(_loader(arguments[0]))
    if origin is dict and arguments[:1] == (str,) and arguments[1:] in ((Any,), ()):
        return _dict
    if hint is Any:
        return _any
    if hint is AirbyteStateBlob:
        return _state_blob
    if isinstance(hint, type) and issubclass(hint, Enum):
        return _enum(hint)
    if hint in _SCALARS:
        return _scalar(_SCALARS[hint])
    if dataclasses.is_dataclass(hint):
        return _dataclass(hint)
    return _not_plain


def _required(field: dataclasses.Field[Any]) -> bool:
    return field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING


def _not_plain(value: Any) -> Any:
    raise NotPlain


def _any(value: Any) -> Any:
    return value


def _dict(value: Any) -> Any:
    if value.__class__ is not dict:
        raise NotPlain
    return value


def _state_blob(value: Any) -> AirbyteStateBlob:
    return AirbyteStateBlob(_dict(value))


def _optional(load_value: Loader) -> Loader:
    def load_optional(value: Any) -> Any:
        return None if value is None else load_value(value)

    return load_optional


def _list_of(load_item: Loader) -> Loader:
    def load_list(value: Any) -> Any:
        if value.__class__ is not list:
            raise NotPlain
        return [load_item(item) for item in value]

    return load_list


def _scalar(classes: tuple[type, ...]) -> Loader:
    def load_scalar(value: Any) -> Any:
        if value.__class__ not in classes:  # not bool for int or float: serpyco-rs converts it, or refuses it
            raise NotPlain
        return value

    return load_scalar


def _enum(enum: type[Enum]) -> Loader:
    members = {member.value: member for member in enum if isinstance(member.value, str)}

    def load_enum(value: Any) -> Any:
        if value.__class__ is not str or value not in members:
            raise NotPlain
        return members[value]

    return load_enum


def _dataclass(cls: type) -> Loader:
    hints = typing.get_type_hints(cls, include_extras=True)
    fields = [
        (field.name, key, hints[field.name], _required(field))
        for field, (_, key) in zip(dataclasses.fields(cls), _keys(cls), strict=True)
    ]

    def load_dataclass(value: Any) -> Any:
        if value.__class__ is not dict:
            raise NotPlain
        arguments = {}
        for attribute, key, hint, required in fields:
            if key in value:
                arguments[attribute] = _loader(hint)(value[key])
            elif required:
                raise NotPlain
        return cls(**arguments)

    return load_dataclass
