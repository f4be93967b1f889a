"""How two column types relate: compatible for a rename, widened, narrowed or crossed.

Reflected types (``VARCHAR(50)``, ``INTEGER``) and model types (``String(50)``, ``Integer``)
differ in class but not in meaning, so types are compared by family and size, not by class.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import NullType, TypeEngine

_FAMILIES: tuple[tuple[type[TypeEngine[Any]] | tuple[type[TypeEngine[Any]], ...], str], ...] = (
    (sa.Enum, "enum"),
    (sa.Boolean, "boolean"),
    (sa.Integer, "integer"),
    (sa.Numeric, "numeric"),
    (sa.String, "string"),
    (sa.DateTime, "datetime"),
    (sa.Date, "date"),
    (sa.Time, "time"),
    ((sa.LargeBinary, sa.BINARY, sa.VARBINARY), "binary"),
    (sa.JSON, "json"),
    (sa.Uuid, "uuid"),
)
# Families a renamed column may move between without being a different kind of data.
_RENAME_AFFINITY = {"enum": "string", "boolean": "integer", "datetime": "date"}
# Conversions every dialect makes without losing values.
_WIDENING_FAMILIES = frozenset(
    {("integer", "numeric"), ("boolean", "integer"), ("date", "datetime"), ("enum", "string")}
)
_INTEGER_SIZES = {"TINYINT": 0, "SMALLINT": 1, "MEDIUMINT": 2, "BIGINT": 4}
_DEFAULT_INTEGER_SIZE = 3
# A string this long holds the text of any number, date or UUID.
_ROOMY_STRING_LENGTH = 40


class TypeChange(Enum):
    """What a type change does to the values already stored."""

    SAME = "same"
    WIDENING = "widening"
    NARROWING = "narrowing"
    CROSS = "cross"


def resolved(type_: Any) -> TypeEngine[Any] | None:
    """A type instance from a type, a type class or nothing; None when unknown."""
    if type_ is None:
        return None
    if isinstance(type_, type):
        type_ = type_()
    if isinstance(type_, NullType) or not isinstance(type_, TypeEngine):
        return None
    return type_


def family(type_: TypeEngine[Any]) -> str:
    """The kind of data a type holds: "string", "integer", ... or its class name."""
    for classes, name in _FAMILIES:
        if isinstance(type_, classes):
            return name
    return type(type_).__name__.lower()


def rename_affinity(type_: Any) -> str | None:
    """The kind of data a renamed column keeps (VARCHAR and ENUM alike); None when unknown."""
    resolved_type = resolved(type_)
    if resolved_type is None:
        return None
    name = family(resolved_type)
    return _RENAME_AFFINITY.get(name, name)


def rename_compatible(old: Any, new: Any) -> bool:
    """True when a dropped column of type ``old`` could hold the data of an added ``new``."""
    old_affinity, new_affinity = rename_affinity(old), rename_affinity(new)
    return old_affinity is None or new_affinity is None or old_affinity == new_affinity


def same_type(old: TypeEngine[Any], new: TypeEngine[Any]) -> bool:
    """True when two types store the same values (VARCHAR(50) and String(50))."""
    return change_of(old, new) is TypeChange.SAME


def change_of(old: TypeEngine[Any], new: TypeEngine[Any]) -> TypeChange:
    """What converting stored values from ``old`` to ``new`` does to them."""
    old_family, new_family = family(old), family(new)
    if old_family != new_family:
        if (old_family, new_family) in _WIDENING_FAMILIES:
            return TypeChange.WIDENING
        if new_family == "string" and old_family != "binary" and _roomy(new):
            return TypeChange.WIDENING
        return TypeChange.CROSS
    if old_family in ("string", "binary"):
        return _size_change(getattr(old, "length", None), getattr(new, "length", None))
    if old_family == "integer":
        return _size_change(_integer_size(old), _integer_size(new))
    if old_family == "numeric":
        return _numeric_change(old, new)
    if old_family == "enum":
        removed = set(getattr(old, "enums", ())) - set(getattr(new, "enums", ()))
        added = set(getattr(new, "enums", ())) - set(getattr(old, "enums", ()))
        if removed:
            return TypeChange.NARROWING
        return TypeChange.WIDENING if added else TypeChange.SAME
    return TypeChange.SAME


def describe(type_: TypeEngine[Any]) -> str:
    """A type as SQL for messages: VARCHAR(50), INTEGER, ENUM('a', 'b')."""
    if isinstance(type_, sa.Enum):
        return "ENUM(" + ", ".join(repr(value) for value in type_.enums) + ")"
    try:
        return str(type_)
    except sa.exc.CompileError:
        return type(type_).__name__


def _roomy(type_: TypeEngine[Any]) -> bool:
    length = getattr(type_, "length", None)
    return length is None or length >= _ROOMY_STRING_LENGTH


def _integer_size(type_: TypeEngine[Any]) -> int:
    if isinstance(type_, sa.BigInteger):
        return _INTEGER_SIZES["BIGINT"]
    if isinstance(type_, sa.SmallInteger):
        return _INTEGER_SIZES["SMALLINT"]
    return _INTEGER_SIZES.get(type(type_).__name__.upper(), _DEFAULT_INTEGER_SIZE)


def _size_change(old_size: int | None, new_size: int | None) -> TypeChange:
    """Compare sizes where None means unbounded."""
    if old_size == new_size:
        return TypeChange.SAME
    if new_size is not None and (old_size is None or new_size < old_size):
        return TypeChange.NARROWING
    return TypeChange.WIDENING


def _numeric_change(old: TypeEngine[Any], new: TypeEngine[Any]) -> TypeChange:
    precision = _size_change(getattr(old, "precision", None), getattr(new, "precision", None))
    scale = _size_change(getattr(old, "scale", None), getattr(new, "scale", None))
    if TypeChange.NARROWING in (precision, scale):
        return TypeChange.NARROWING
    if TypeChange.WIDENING in (precision, scale):
        return TypeChange.WIDENING
    return TypeChange.SAME
