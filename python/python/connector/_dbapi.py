"""What ``connector.acton`` and ``connector.hubdb`` share: PEP 249 globals, type objects and
constructors, and ``connect``."""

from __future__ import annotations

import datetime
import decimal
from typing import Any

from . import _native
from .exceptions import *  # noqa: F401,F403 - re-exported by the source modules
from .exceptions import __all__ as _exception_names

Connection = _native.Connection
Cursor = _native.Cursor

#: PEP 249: the DB-API level.
apilevel = "2.0"
#: PEP 249: threads may share the module and connections, not cursors.
threadsafety = 2
#: PEP 249: ``?`` markers, values passed as a list or tuple.
paramstyle = "qmark"


class DBAPITypeObject:
    """A PEP 249 type object: equal to every ``type_code`` of its group.

    ``cursor.description[i][1]`` (the type code) is the Python type of the column's values,
    so ``description[i][1] == NUMBER`` works as PEP 249 asks.
    """

    def __init__(self, name: str, *types: type) -> None:
        self.name = name
        self.types = frozenset(types)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DBAPITypeObject):
            return self is other
        return other in self.types

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"<DBAPITypeObject {self.name}>"


STRING = DBAPITypeObject("STRING", str)
BINARY = DBAPITypeObject("BINARY", bytes, bytearray)
NUMBER = DBAPITypeObject("NUMBER", int, float, decimal.Decimal, bool)
DATETIME = DBAPITypeObject("DATETIME", datetime.datetime, datetime.date, datetime.time)
#: Row ids are ordinary columns (``Id``); nothing compares equal to ROWID.
ROWID = DBAPITypeObject("ROWID")

Date = datetime.date
Time = datetime.time
Binary = bytes


def Timestamp(  # noqa: N802 - PEP 249 name
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime.datetime:
    """A UTC timestamp (PEP 249 constructor)."""
    return datetime.datetime(year, month, day, hour, minute, second, tzinfo=datetime.timezone.utc)


def DateFromTicks(ticks: float) -> datetime.date:  # noqa: N802
    """The UTC date of a Unix time (PEP 249 constructor)."""
    return datetime.datetime.fromtimestamp(ticks, datetime.timezone.utc).date()


def TimeFromTicks(ticks: float) -> datetime.time:  # noqa: N802
    """The UTC time of day of a Unix time (PEP 249 constructor)."""
    return datetime.datetime.fromtimestamp(ticks, datetime.timezone.utc).time()


def TimestampFromTicks(ticks: float) -> datetime.datetime:  # noqa: N802
    """A UTC timestamp from a Unix time (PEP 249 constructor)."""
    return datetime.datetime.fromtimestamp(ticks, datetime.timezone.utc)


def connect_to(source: str, connection_string: str) -> Any:
    """``connect`` of one source module."""
    if not isinstance(connection_string, str):
        raise InterfaceError(  # noqa: F405
            "connect() takes the connection string, e.g. connect(\"AuthScheme=PrivateApp;PrivateAppToken=...\")"
        )
    return _native.connect(source, connection_string)


__all__ = [
    "apilevel",
    "threadsafety",
    "paramstyle",
    "Connection",
    "Cursor",
    "STRING",
    "BINARY",
    "NUMBER",
    "DATETIME",
    "ROWID",
    "Date",
    "Time",
    "Timestamp",
    "DateFromTicks",
    "TimeFromTicks",
    "TimestampFromTicks",
    "Binary",
    *_exception_names,
]

