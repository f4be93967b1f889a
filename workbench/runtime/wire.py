"""Requests and events as JSON-ready data and back: the one place the child protocol is encoded.

Both sides of the process boundary go through these four functions, so a field added to a
request or an event class travels without any code that names it.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Mapping
from typing import Any

from workbench.runtime.events import EVENTS, Event
from workbench.runtime.requests import OPERATIONS, Request

SERVE_FLAG = "--serve"
"""The worker's argument that makes it a long-lived child (``serve``) instead of a one-shot."""


def encode_request(request: Request) -> dict[str, Any]:
    """A request as JSON-ready data: ``{"operation": name, "arguments": {field: value}}``."""
    return {"operation": request.operation, "arguments": _plain_fields(request)}


def decode_request(data: Mapping[str, Any]) -> Request:
    """The request ``encode_request`` gave; ValueError for an unknown operation or field."""
    name = data.get("operation")
    kind = OPERATIONS.get(name) if isinstance(name, str) else None
    if kind is None:
        raise ValueError(f"unknown operation {name!r}; one of {', '.join(sorted(OPERATIONS))}")
    return _decoded(kind, data.get("arguments") or {})


def encode_event(event: Event) -> dict[str, Any]:
    """An event as JSON-ready data: ``{"event": kind, field: value...}``."""
    return {"event": event.event, **_plain_fields(event)}


def decode_event(data: Mapping[str, Any]) -> Event:
    """The event ``encode_event`` gave; ValueError when the data is not one."""
    kind = EVENTS.get(data.get("event"))  # type: ignore[arg-type]
    if kind is None:
        raise ValueError(f"not an event: {data.get('event')!r}")
    return _decoded(kind, {key: value for key, value in data.items() if key != "event"})


def _plain_fields(instance: Any) -> dict[str, Any]:
    """A dataclass's fields as JSON-ready data."""
    fields = dataclasses.fields(instance)
    return {each.name: _plain(getattr(instance, each.name)) for each in fields}


def _plain(value: Any) -> Any:
    """A field's value as JSON-ready data: requests, dataclasses, tuples and mappings unfolded."""
    if isinstance(value, Request):
        return encode_request(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain_fields(value)
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _decoded(hint: Any, value: Any) -> Any:
    """A JSON value made back into the type ``hint`` names (as ``_plain`` unfolded it)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        return _decoded(next(arg for arg in typing.get_args(hint) if arg is not type(None)), value)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"expected a list, not {value!r}")
        return tuple(_decoded(typing.get_args(hint)[0], item) for item in value)
    if hint is Request:
        return decode_request(value)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if not isinstance(value, Mapping):
            raise ValueError(f"expected an object for {hint.__name__}, not {value!r}")
        hints = _field_hints(hint)
        unknown = set(value) - set(hints)
        if unknown:
            raise ValueError(f"{hint.__name__} has no field {', '.join(sorted(unknown))}")
        try:
            return hint(**{name: _decoded(hints[name], item) for name, item in value.items()})
        except TypeError as exc:
            raise ValueError(str(exc)) from exc
    if isinstance(origin, type) and issubclass(origin, Mapping):
        if not isinstance(value, Mapping):
            raise ValueError(f"expected an object, not {value!r}")
        return dict(value)
    return value


@functools.cache
def _field_hints(kind: type) -> dict[str, Any]:
    """A dataclass's fields and their resolved types."""
    hints = typing.get_type_hints(kind)
    return {each.name: hints[each.name] for each in dataclasses.fields(kind)}
