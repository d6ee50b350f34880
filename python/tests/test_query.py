"""Queries: parameters, Python values, description, fetch methods, streaming, Arrow, pandas,
EXEC, the GIL and Ctrl-C."""

from __future__ import annotations

import _thread
import datetime
import threading
import time
import warnings

import pytest

import connector
import connector.acton as acton
import connector.hubdb as hubdb
from connector.testing import Emulator

from conftest import HUBDB_ROWS, rows_as_dicts

UTC = datetime.timezone.utc


def test_parameters(hub) -> None:
    cur = hub.cursor()
    result = cur.execute(
        "SELECT title, city, attendees FROM events WHERE city = ? AND attendees > ?", ["Berlin", 100]
    )
    assert result is cur
    rows = rows_as_dicts(cur)
    assert rows, "the seeded data has Berlin events"
    assert all(r["city"] == "Berlin" and r["attendees"] > 100 for r in rows)
    # Tuples work too, and IN (?) takes a list.
    cur.execute("SELECT COUNT(*) FROM events WHERE city IN (?, ?)", ("Berlin", "Lisbon"))
    (n,) = cur.fetchone()
    assert n >= len(rows)


def test_python_values(hub) -> None:
    cur = hub.execute(
        "SELECT Id, title, attendees, ticket_price, is_online, event_date, starts_at, tags "
        "FROM events WHERE starts_at IS NOT NULL AND event_date IS NOT NULL AND tags IS NOT NULL "
        "LIMIT 5"
    )
    rows = rows_as_dicts(cur)
    assert rows
    for r in rows:
        assert isinstance(r["Id"], int)
        assert isinstance(r["title"], (str, type(None)))
        assert isinstance(r["attendees"], (int, float, type(None)))
        assert isinstance(r["is_online"], (bool, type(None)))
        assert type(r["event_date"]) is datetime.date
        assert isinstance(r["starts_at"], datetime.datetime)
        assert r["starts_at"].tzinfo is not None
        assert r["starts_at"].utcoffset() == datetime.timedelta(0)
        assert isinstance(r["tags"], list) and all(isinstance(t, str) for t in r["tags"])


def test_struct_columns_are_dicts(hub) -> None:
    (venue,) = hub.execute("SELECT venue FROM events WHERE venue IS NOT NULL LIMIT 1").fetchone()
    assert isinstance(venue, dict) and set(venue) == {"lat", "long"}
    assert isinstance(venue["lat"], float)


def test_datetime_parameters(hub) -> None:
    (first,) = hub.execute(
        "SELECT MIN(starts_at) FROM events WHERE starts_at IS NOT NULL"
    ).fetchone()
    (n,) = hub.execute("SELECT COUNT(*) FROM events WHERE starts_at = ?", [first]).fetchone()
    assert n >= 1
    naive = first.replace(tzinfo=None)  # naive datetimes are UTC
    assert hub.execute("SELECT COUNT(*) FROM events WHERE starts_at = ?", [naive]).fetchone() == (n,)
    (day,) = hub.execute("SELECT MIN(event_date) FROM events").fetchone()
    (m,) = hub.execute("SELECT COUNT(*) FROM events WHERE event_date = ?", [day]).fetchone()
    assert m >= 1


def test_description(hub) -> None:
    cur = hub.execute(
        "SELECT Id, title, attendees, is_online, event_date, starts_at, tags FROM events LIMIT 1"
    )
    d = cur.description
    assert [c[0] for c in d] == [
        "Id", "title", "attendees", "is_online", "event_date", "starts_at", "tags",
    ]
    assert all(len(c) == 7 for c in d)
    codes = {c[0]: c[1] for c in d}
    assert codes["Id"] == hubdb.NUMBER
    assert codes["title"] == hubdb.STRING
    assert codes["attendees"] == hubdb.NUMBER
    assert codes["is_online"] is bool
    assert codes["event_date"] == hubdb.DATETIME and codes["event_date"] is datetime.date
    assert codes["starts_at"] is datetime.datetime
    assert codes["tags"] is list
    assert isinstance(d[1][6], bool)  # null_ok


def test_fetch_methods_and_rowcount(hub) -> None:
    cur = hub.execute("SELECT Id FROM events ORDER BY Id LIMIT 10")
    assert cur.rowcount == -1
    assert cur.arraysize == 1
    assert len(cur.fetchmany()) == 1
    cur.arraysize = 3
    assert len(cur.fetchmany()) == 3
    assert len(cur.fetchmany(2)) == 2
    one = cur.fetchone()
    assert isinstance(one, tuple) and len(one) == 1
    rest = list(cur)
    assert len(rest) == 3
    assert cur.fetchone() is None
    assert cur.fetchall() == []
    assert cur.rowcount == 10
    with pytest.raises(hubdb.ProgrammingError):
        cur.arraysize = 0


def test_max_rows_caps_results_not_aggregates(emu: Emulator) -> None:
    """MaxRows caps what a query returns (over LIMIT) but COUNT(*) still sees every row."""
    with hubdb.connect(emu.hubdb_private_app() + ";MaxRows=7") as conn:
        assert len(conn.execute("SELECT * FROM events").fetchall()) == 7
        assert len(conn.execute("SELECT Id FROM events LIMIT 20").fetchall()) == 7
        assert conn.execute("SELECT COUNT(*) FROM events").fetchone() == (HUBDB_ROWS,)


def test_iteration_and_cursor_context(hub) -> None:
    with hub.cursor() as cur:
        cur.execute("SELECT Id FROM events LIMIT 4")
        assert len([row for row in cur]) == 4
    assert cur.closed
    with pytest.raises(hubdb.InterfaceError):
        cur.execute("SELECT 1")


def test_rows_stream(emu: Emulator) -> None:
    """Fetching the first row reads one page, not the table."""
    conn = hubdb.connect(emu.hubdb_private_app() + ";Pagesize=20")
    pages = HUBDB_ROWS // 20

    def row_requests() -> int:
        return sum(1 for r in emu.requests("hubdb") if r["path"].endswith("/rows"))

    cur = conn.execute("SELECT * FROM events")
    before = row_requests()
    assert cur.fetchone() is not None
    after_first = row_requests() - before
    assert 1 <= after_first < pages // 2, f"{after_first} page requests for one row"
    cur.close()
    # The whole table through the same path.
    cur = conn.execute("SELECT * FROM events")
    assert len(cur.fetchall()) == HUBDB_ROWS


def test_arrow_table(hub) -> None:
    pa = pytest.importorskip("pyarrow")
    cur = hub.execute("SELECT Id, title, starts_at, tags FROM events ORDER BY Id")
    first = cur.fetchone()
    table = cur.fetch_arrow_table()
    assert isinstance(table, pa.Table)
    assert table.num_rows == HUBDB_ROWS - 1  # the rest after fetchone
    assert table.column_names == ["Id", "title", "starts_at", "tags"]
    assert pa.types.is_timestamp(table.schema.field("starts_at").type)
    assert pa.types.is_list(table.schema.field("tags").type)
    assert table.column("Id")[0].as_py() > first[0]
    assert cur.rowcount == HUBDB_ROWS
    # An Arrow PyCapsule stream for other consumers.
    stream = hub.execute("SELECT Id FROM events LIMIT 5").fetch_arrow_stream()
    assert pa.RecordBatchReader.from_stream(stream).read_all().num_rows == 5


def test_pandas_read_sql(hub) -> None:
    pd = pytest.importorskip("pandas")
    with warnings.catch_warnings():
        # pandas warns that only SQLAlchemy and sqlite3 connections are "tested".
        warnings.simplefilter("ignore", UserWarning)
        df = pd.read_sql(
            "SELECT Id, title, attendees, starts_at FROM events WHERE attendees > ? ORDER BY Id",
            hub,
            params=[100],
        )
    assert list(df.columns) == ["Id", "title", "attendees", "starts_at"]
    assert len(df) > 0 and (df["attendees"] > 100).all()
    assert str(df["starts_at"].dt.tz) == "UTC"


def test_exec_and_system_tables(hub) -> None:
    procs = [r[0] for r in hub.execute("SELECT ProcedureName FROM sys_procedures").fetchall()]
    assert "PublishTable" in procs and "GetOAuthAccessToken" in procs
    tables = [r[0] for r in hub.execute("SELECT TableName FROM sys_tables").fetchall()]
    assert "events" in tables and "events_Draft" in tables


def test_acton_query_with_parameter(act) -> None:
    rows = rows_as_dicts(act.execute("SELECT * FROM Messages WHERE Type = ?", ["SENT"]))
    assert all(r["Type"] == "SENT" for r in rows)


def test_gil_is_released_during_io() -> None:
    with Emulator(hubdb_rows=40, latency_ms=150) as slow:
        conn = hubdb.connect(slow.hubdb_private_app() + ";Pagesize=10")
        done = threading.Event()

        def query() -> None:
            conn.execute("SELECT * FROM events").fetchall()
            done.set()

        worker = threading.Thread(target=query)
        worker.start()
        ticks = 0
        deadline = time.monotonic() + 0.4
        while time.monotonic() < deadline:
            ticks += 1
        worker.join(30)
        assert done.is_set()
        assert ticks > 10_000, "the main thread could not run while the query waited"


def test_ctrl_c_interrupts_a_long_query() -> None:
    with Emulator(hubdb_rows=400, latency_ms=200) as slow:
        conn = hubdb.connect(slow.hubdb_private_app() + ";Pagesize=10")
        cur = conn.execute("SELECT * FROM events")
        timer = threading.Timer(0.5, _thread.interrupt_main)
        started = time.monotonic()
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            cur.fetchall()
        assert time.monotonic() - started < 5
        timer.cancel()
        # The cursor dropped its stream; the connection still works.
        assert conn.execute("SELECT COUNT(*) FROM events").fetchone() == (400,)


def test_acton_module_is_separate(act) -> None:
    assert act.source == "acton"
    assert isinstance(act, acton.Connection)


def test_keyboard_interrupt_during_a_token_refresh_loses_no_token(tmp_path) -> None:
    """RT-3 from Python: Ctrl-C while the refresh of a single-use Act-On refresh token is out.
    The statement stops at once; the refresh finishes in its own task and saves the new pair,
    so the next connection works without presenting a used refresh token."""
    # 4 s tokens: opening an Act-On connection (account, lists, segments at 5 requests/s)
    # takes about a second, which must stay before the refresh point.
    with Emulator(acton_records=5, token_ttl_s=4) as emu:
        settings = str(tmp_path / "OAuthSettings.txt")
        with acton.connect(emu.acton_password(settings)) as conn:
            conn.execute("SELECT * FROM List_Customers LIMIT 1").fetchall()
            time.sleep(2.2)  # past the refresh point (half of a 4 s lifetime)
            emu.inject("acton", kind="delay", ms=1500, count=1, target="token")
            timer = threading.Timer(0.3, _thread.interrupt_main)
            started = time.monotonic()
            timer.start()
            with pytest.raises(KeyboardInterrupt):
                conn.execute("SELECT * FROM List_Customers LIMIT 1").fetchall()
            assert time.monotonic() - started < 1.2, "interrupted before the refresh answered"
            timer.cancel()
        assert connector._native.wait_for_token_refreshes(10.0)
        # The interrupted connection's refresh completed (and was saved: see below).
        assert emu.stats("acton")["token_grants"]["refresh_token"] == 1
        with acton.connect(emu.acton_password(settings)) as again:
            assert len(again.execute("SELECT * FROM List_Customers LIMIT 2").fetchall()) == 2
        stats = emu.stats("acton")
        assert stats["token_grants"] == {"authorization_code": 0, "refresh_token": 1, "password": 1}
        assert stats["token_errors"] == 0
