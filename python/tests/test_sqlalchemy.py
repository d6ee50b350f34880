"""The SQLAlchemy dialects (``hubdb://``, ``acton://`` and their ``_2`` names) against the
emulators: URLs, reflection, automap, Core and ORM writes on HubDB drafts, pandas."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterator

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy import delete, func, insert, inspect, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.automap import automap_base
from sqlalchemy.orm import Session

import connector.acton as acton
import connector.hubdb as hubdb
import connector.sqlalchemy as dialects
from connector.testing import Emulator

HUBDB_ROWS = 40


@pytest.fixture(scope="module")
def emu2() -> Iterator[Emulator]:
    """Emulators of their own: the writes here must not change what other modules count."""
    with Emulator(auto_approve=True, hubdb_rows=HUBDB_ROWS, acton_records=30) as e:
        yield e


@pytest.fixture(scope="module")
def hub_engine(emu2: Emulator) -> Iterator[sa.Engine]:
    engine = sa.create_engine("hubdb:///?" + emu2.hubdb_private_app())
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def acton_engine(emu2: Emulator) -> Iterator[sa.Engine]:
    engine = sa.create_engine("acton:///?" + emu2.acton_password("memory://pytest-sqlalchemy"))
    yield engine
    engine.dispose()


def _title(tag: str) -> str:
    return f"sqlalchemy {tag} {uuid.uuid4().hex[:8]}"


# -- URLs and connecting ----------------------------------------------------------------------


def test_dialect_names_and_url_forms(emu2: Emulator) -> None:
    cs = emu2.hubdb_private_app()
    for name, dialect in [("hubdb", dialects.HubDBDialect), ("hubdb_2", dialects.HubDBDialect)]:
        engine = sa.create_engine(f"{name}:///?{cs}")
        assert type(engine.dialect) is dialect
        assert engine.dialect.name == "hubdb"
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT COUNT(*) FROM events").scalar() == HUBDB_ROWS
    for name in ["acton", "acton_2"]:
        engine = sa.create_engine(f"{name}:///?" + emu2.acton_password("memory://pytest-sqla-url"))
        assert type(engine.dialect) is dialects.ActOnDialect
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT COUNT(*) FROM List_Customers").scalar() == 30


def test_connection_string_survives_the_url() -> None:
    # `=`, `/`, `:` and `;` stay as typed after `?`; url() encodes what URL parsing would change.
    cs = "AuthScheme=PrivateApp;PrivateAppToken=pat-na1-a=b/c:d;APIBaseURL=http://127.0.0.1:9/x?y=1"
    assert dialects._connection_string(make_url("hubdb:///?" + cs)) == cs
    tricky = "AuthScheme=PrivateApp;PrivateAppToken='a+b&c%d #e'"
    assert dialects.url("hubdb", tricky).startswith("hubdb:///?AuthScheme=PrivateApp;")
    assert dialects._connection_string(make_url(dialects.url("hubdb", tricky))) == tricky


def test_connect_args_and_url_errors(emu2: Emulator) -> None:
    engine = sa.create_engine("hubdb://", connect_args={"connection_string": emu2.hubdb_private_app()})
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM events").scalar() == HUBDB_ROWS
    with pytest.raises(sa.exc.ArgumentError) as e:
        sa.create_engine("hubdb://").connect()
    assert str(e.value) == (
        "no connection string: use create_engine(\"hubdb:///?AuthScheme=...;...\") "
        "or connect_args={'connection_string': \"...\"}"
    )
    with pytest.raises(sa.exc.ArgumentError) as e:
        sa.create_engine("hubdb://user@somehost/db?AuthScheme=PrivateApp").connect()
    assert str(e.value) == (
        "hubdb:// URLs take the whole connection string after '?' (hubdb:///?AuthScheme=...;...); "
        "this one has a user name, a host, a database"
    )
    with pytest.raises(sa.exc.ArgumentError) as e:
        sa.create_engine("hubdb:///?AuthScheme=PrivateApp", connect_args={"timeout": 3}).connect()
    assert str(e.value) == (
        "unknown connect_args ['timeout']: the hubdb dialect takes only 'connection_string' "
        "(the whole connection string)"
    )


def test_no_secret_in_engine_repr_or_errors(emu2: Emulator) -> None:
    canary = "pat-na1-CANARY-5ecret"
    base = emu2.info["hubspot"]["base_url"]
    engine = sa.create_engine(f"hubdb:///?AuthScheme=PrivateApp;PrivateAppToken={canary};APIBaseURL={base}")
    assert repr(engine) == "Engine(hubdb:///?connection_string=redacted)"
    assert canary not in engine.url.render_as_string(hide_password=False)
    with pytest.raises(sa.exc.DBAPIError) as e:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT * FROM events").fetchall()
    assert isinstance(e.value.orig, hubdb.AuthenticationError)
    assert canary not in str(e.value)
    assert canary not in repr(e.value)


# -- reflection -------------------------------------------------------------------------------


def test_hubdb_reflection(hub_engine: sa.Engine) -> None:
    insp = inspect(hub_engine)
    assert insp.default_schema_name == "hubdb"
    assert insp.get_schema_names() == ["hubdb"]
    assert sorted(insp.get_table_names()) == ["campaign_budget_Draft", "events_Draft", "organizers_Draft"]
    assert sorted(insp.get_view_names()) == ["Owners", "events", "organizers"]
    assert insp.has_table("events_Draft")
    assert insp.has_table("events")  # views count, as SQLAlchemy asks
    assert insp.has_table("EVENTS_DRAFT")  # names match ignoring case, as in SQL
    assert not insp.has_table("evnts")

    columns = {c["name"]: c for c in insp.get_columns("events")}
    assert list(columns)[:8] == [
        "Id", "CreatedAt", "UpdatedAt", "PublishedAt", "PagePath", "PageName", "ChildTableId", "title",
    ]
    types = {name: type(c["type"]) for name, c in columns.items()}
    assert types["Id"] is sa.BigInteger
    assert types["title"] is sa.String
    assert types["attendees"] is sa.Double
    assert types["is_online"] is sa.Boolean
    assert types["event_date"] is sa.Date
    assert types["tags"] is sa.ARRAY
    assert types["banner"] is dialects.STRUCT
    assert columns["starts_at"]["type"].timezone is True
    assert columns["Id"]["nullable"] is False
    assert columns["title"]["nullable"] is True
    assert columns["title"]["comment"] == "Title (HubDB TEXT column)"
    assert insp.get_pk_constraint("events") == {"constrained_columns": ["Id"], "name": "PK_events"}
    assert insp.get_pk_constraint("events_Draft") == {
        "constrained_columns": ["Id"],
        "name": "PK_events_Draft",
    }
    assert insp.get_foreign_keys("events_Draft") == []
    assert insp.get_indexes("events_Draft") == []

    draft = {c["name"]: c for c in insp.get_columns("events_Draft")}
    assert draft["Id"]["autoincrement"] is True  # the key comes back through lastrowid
    assert "computed" in draft["CreatedAt"]  # read-only: never written
    assert "computed" not in draft["title"]

    with pytest.raises(sa.exc.NoSuchTableError) as e:
        insp.get_columns("evnts")
    assert str(e.value) == "evnts"


def test_acton_reflection(acton_engine: sa.Engine, emu2: Emulator) -> None:
    with acton.connect(emu2.acton_password("memory://pytest-sqla-reflect")) as conn:
        listed = conn.execute("SELECT TableName, TableType FROM sys_tables").fetchall()
    insp = inspect(acton_engine)
    assert insp.default_schema_name == "acton"
    assert insp.get_table_names() == [name for name, kind in listed if kind == "TABLE"]
    assert insp.get_view_names() == [name for name, kind in listed if kind == "VIEW"]
    assert "List_Customers" in insp.get_table_names()
    assert "Messages" in insp.get_table_names() + insp.get_view_names()

    columns = {c["name"]: c for c in insp.get_columns("Messages")}
    assert type(columns["Id"]["type"]) is sa.String
    assert type(columns["Timestamp"]["type"]) is sa.DateTime
    assert columns["Id"]["autoincrement"] is False  # Act-On keys are text
    assert insp.get_pk_constraint("Messages") == {"constrained_columns": ["Id"], "name": "PK_Messages"}
    assert insp.get_pk_constraint("List_Customers") == {
        "constrained_columns": ["ContactId"],
        "name": "PK_List_Customers",
    }
    # Column names with spaces are quoted with brackets.
    table = sa.Table("List_Customers", sa.MetaData(), autoload_with=acton_engine)
    query = select(table.c["First Name"]).order_by(table.c.ContactId).limit(2)
    assert str(query.compile(acton_engine)) == (
        "SELECT [List_Customers].[First Name] \nFROM [List_Customers] "
        "ORDER BY [List_Customers].[ContactId]\n LIMIT ?"
    )
    with acton_engine.connect() as conn:
        assert len(conn.execute(query).fetchall()) == 2


def test_automap(hub_engine: sa.Engine) -> None:
    base = automap_base()
    base.prepare(autoload_with=hub_engine)
    # Every table with a key is mapped: HubDB's drafts (views are not reflected by automap).
    assert sorted(base.classes.keys()) == ["campaign_budget_Draft", "events_Draft", "organizers_Draft"]
    events = base.classes.events_Draft
    with Session(hub_engine) as session:
        rows = session.scalars(select(events).order_by(events.Id).limit(3)).all()
    assert len(rows) == 3
    assert all(isinstance(r.Id, int) and isinstance(r.CreatedAt, datetime.datetime) for r in rows)


# -- Core -------------------------------------------------------------------------------------


def test_core_select_pushes_the_where(hub_engine: sa.Engine, emu2: Emulator) -> None:
    events = sa.Table("events", sa.MetaData(), autoload_with=hub_engine)
    query = (
        select(events.c.title, events.c.attendees)
        .where(events.c.city == "Berlin", events.c.attendees > 10)
        .order_by(events.c.attendees.desc())
        .limit(5)
        .offset(1)
    )
    assert str(query.compile(hub_engine)) == (
        "SELECT events.title, events.attendees \nFROM events \n"
        "WHERE events.city = ? AND events.attendees > ? ORDER BY events.attendees DESC\n LIMIT ? OFFSET ?"
    )
    before = len(emu2.requests("hubdb"))
    with hub_engine.connect() as conn:
        rows = conn.execute(query).fetchall()
    with hubdb.connect(emu2.hubdb_private_app()) as raw:
        expected = raw.execute(
            "SELECT title, attendees FROM events WHERE city = 'Berlin' AND attendees > 10 "
            "ORDER BY attendees DESC LIMIT 5 OFFSET 1"
        ).fetchall()
    assert rows == expected
    reads = [r for r in emu2.requests("hubdb")[before:] if r["path"].endswith("/rows")]
    assert "city__eq=Berlin" in reads[0]["query"]
    assert "attendees__gt=10" in reads[0]["query"]


def test_core_insert_update_delete(hub_engine: sa.Engine) -> None:
    draft = sa.Table("events_Draft", sa.MetaData(), autoload_with=hub_engine)
    title = _title("core")
    with hub_engine.connect() as conn:
        result = conn.execute(insert(draft).values(title=title, city="Lyon", attendees=12))
        assert result.rowcount == 1
        (new_id,) = result.inserted_primary_key
        assert isinstance(new_id, int)
        row = conn.execute(select(draft.c.Id, draft.c.city).where(draft.c.title == title)).one()
        assert tuple(row) == (new_id, "Lyon")

        result = conn.execute(update(draft).where(draft.c.Id == new_id).values(city="Nice"))
        assert result.rowcount == 1
        assert conn.execute(select(draft.c.city).where(draft.c.Id == new_id)).scalar() == "Nice"

        # executemany: one multi-row INSERT
        many = conn.execute(insert(draft), [{"title": title, "city": c} for c in ("Porto", "Faro")])
        assert many.rowcount == 2
        count = select(func.count()).select_from(draft).where(draft.c.title == title)
        assert conn.execute(count).scalar() == 3

        result = conn.execute(delete(draft).where(draft.c.title == title))
        assert result.rowcount == 3
        assert conn.execute(count).scalar() == 0
        conn.commit()  # a no-op: every statement was applied when it ran
        conn.rollback()


def test_views_are_read_only(hub_engine: sa.Engine) -> None:
    events = sa.Table("events", sa.MetaData(), autoload_with=hub_engine)
    with hub_engine.connect() as conn, pytest.raises(sa.exc.ProgrammingError) as e:
        conn.execute(insert(events).values(Id=1))
    assert isinstance(e.value.orig, hubdb.ProgrammingError)


# -- ORM --------------------------------------------------------------------------------------


def test_orm_session_learns_the_id(hub_engine: sa.Engine) -> None:
    base = automap_base()
    base.prepare(autoload_with=hub_engine)
    events = base.classes.events_Draft
    title = _title("orm")
    with Session(hub_engine) as session:
        event = events(title=title, city="Oslo", attendees=5, is_online=False)
        session.add(event)
        session.commit()
        assert isinstance(event.Id, int)
        # The service set CreatedAt; the ORM reads it back by the new Id.
        assert isinstance(event.CreatedAt, datetime.datetime)
        new_id = event.Id

        event.city = "Bergen"
        session.commit()
    with Session(hub_engine) as session:
        again = session.get(events, new_id)
        assert (again.title, again.city, again.attendees) == (title, "Bergen", 5)
        session.delete(again)
        session.commit()
        assert session.get(events, new_id) is None


# -- pandas -----------------------------------------------------------------------------------


def test_pandas_read_sql(hub_engine: sa.Engine) -> None:
    df = pd.read_sql("SELECT Id, title, attendees FROM events ORDER BY Id LIMIT 5", hub_engine)
    assert list(df.columns) == ["Id", "title", "attendees"]
    assert len(df) == 5
    df = pd.read_sql(
        sa.text("SELECT COUNT(*) AS n FROM events WHERE Id > :low"), hub_engine, params={"low": 0}
    )
    assert df["n"].tolist() == [HUBDB_ROWS]


def test_pandas_to_sql_into_a_draft(hub_engine: sa.Engine, emu2: Emulator) -> None:
    tag = _title("to_sql")
    df = pd.DataFrame(
        {
            "title": [f"{tag} {i}" for i in range(250)],
            "city": ["Lisbon"] * 250,
            "attendees": list(range(250)),
            "is_online": [i % 2 == 0 for i in range(250)],
        }
    )

    def creates() -> int:
        return sum(1 for r in emu2.requests("hubdb") if "batch/create" in r["path"])

    before = creates()
    assert df.to_sql("events_Draft", hub_engine, if_exists="append", index=False) == 250
    assert creates() - before == 3  # HubDB takes 100 rows a call
    back = pd.read_sql(
        sa.text("SELECT title, attendees, is_online FROM events_Draft WHERE title LIKE :p ORDER BY attendees"),
        hub_engine,
        params={"p": f"{tag} %"},
    )
    assert len(back) == 250
    assert back["attendees"].tolist() == [float(i) for i in range(250)]
    assert back["is_online"].tolist() == [i % 2 == 0 for i in range(250)]
    with hub_engine.connect() as conn:
        gone = conn.exec_driver_sql("DELETE FROM events_Draft WHERE title LIKE ?", (f"{tag} %",))
        assert gone.rowcount == 250
