"""PEP 249 module surface of connector.acton and connector.hubdb."""

from __future__ import annotations

import datetime
import decimal

import pytest

import connector
import connector.acton as acton
import connector.hubdb as hubdb
from connector import exceptions


@pytest.mark.parametrize("mod", [acton, hubdb])
def test_module_globals(mod) -> None:
    assert mod.apilevel == "2.0"
    assert mod.threadsafety == 2
    assert mod.paramstyle == "qmark"
    assert callable(mod.connect)
    assert isinstance(connector.__version__, str)


@pytest.mark.parametrize("mod", [acton, hubdb])
def test_exception_hierarchy(mod) -> None:
    assert issubclass(mod.Error, Exception)
    assert issubclass(mod.Warning, Exception)
    for name in ("InterfaceError", "DatabaseError"):
        assert issubclass(getattr(mod, name), mod.Error)
    for name in (
        "DataError",
        "OperationalError",
        "IntegrityError",
        "InternalError",
        "ProgrammingError",
        "NotSupportedError",
    ):
        assert issubclass(getattr(mod, name), mod.DatabaseError)
    assert issubclass(mod.ConnectionStringError, mod.InterfaceError)
    assert issubclass(mod.AuthenticationError, mod.OperationalError)
    assert issubclass(mod.RateLimitError, mod.OperationalError)
    # One hierarchy for both sources.
    assert mod.Error is exceptions.Error


def test_type_objects() -> None:
    assert hubdb.STRING == str
    assert hubdb.NUMBER == int and hubdb.NUMBER == float and hubdb.NUMBER == decimal.Decimal
    assert hubdb.DATETIME == datetime.datetime and hubdb.DATETIME == datetime.date
    assert hubdb.BINARY == bytes
    assert hubdb.STRING != int
    assert hubdb.ROWID != int


def test_constructors() -> None:
    ts = hubdb.Timestamp(2024, 5, 6, 7, 8, 9)
    assert ts.tzinfo == datetime.timezone.utc
    assert hubdb.Date(2024, 1, 2) == datetime.date(2024, 1, 2)
    assert hubdb.TimestampFromTicks(0) == datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    assert hubdb.DateFromTicks(86400) == datetime.date(1970, 1, 2)
    assert hubdb.Binary(b"x") == b"x"


def test_every_registered_source_is_a_module(tmp_path) -> None:
    """Modules come from the Rust list: the template source needs no Python file."""
    import importlib

    assert connector.sources()[:2] == ["hubdb", "acton"]
    assert "files" in connector.sources()
    for name in connector.sources():
        mod = importlib.import_module(f"connector.{name}")
        assert mod.apilevel == "2.0" and callable(mod.connect)
        assert mod.connect.__module__ == f"connector.{name}"
    import connector.files as files

    (tmp_path / "cities.csv").write_text("city,population\nBerlin,3.6\nLisbon,0.5\n")
    conn = files.connect(f"Folder='{tmp_path}'")
    assert conn.source == "files"
    cur = conn.execute("SELECT city FROM cities WHERE population > ?", [1])
    assert cur.fetchall() == [("Berlin",)]
    with pytest.raises(files.ConnectionStringError) as err:
        files.connect("Foldr=x")
    assert str(err.value) == (
        "2 problems in the Files connection string:\n"
        "  - unknown property Foldr; did you mean Folder?\n"
        "  - Folder is required to name the directory of .csv files to serve (e.g. Folder=/data/exports)"
    )
    with pytest.raises(connector.exceptions.InterfaceError, match="unknown source"):
        connector._dbapi.connect_to("nope", "")
