"""INSERT / UPDATE / DELETE with rowcount, executemany, and the no-transaction semantics."""

from __future__ import annotations

import uuid

import pytest

import connector.hubdb as hubdb


def _title(tag: str) -> str:
    return f"pytest {tag} {uuid.uuid4().hex[:8]}"


def test_insert_update_delete_rowcount(hub) -> None:
    title = _title("dml")
    cur = hub.cursor()
    cur.execute(
        "INSERT INTO events_Draft (title, city, attendees, is_online) VALUES (?, ?, ?, ?)",
        [title, "Lisbon", 42, True],
    )
    assert cur.rowcount == 1
    assert cur.description is None
    hub.commit()  # a no-op: the row is already there
    row = cur.execute(
        "SELECT title, city, attendees, is_online FROM events_Draft WHERE title = ?", [title]
    ).fetchone()
    assert row == (title, "Lisbon", 42, True)

    cur.execute("UPDATE events_Draft SET attendees = ? WHERE title = ?", [43, title])
    assert cur.rowcount == 1
    hub.rollback()  # cannot undo: the update stays
    assert cur.execute(
        "SELECT attendees FROM events_Draft WHERE title = ?", [title]
    ).fetchone() == (43,)

    cur.execute("DELETE FROM events_Draft WHERE title = ?", [title])
    assert cur.rowcount == 1
    assert cur.execute("SELECT COUNT(*) FROM events_Draft WHERE title = ?", [title]).fetchone() == (0,)


def _creates(emu) -> int:
    return sum(
        1 for r in emu.requests("hubdb") if r["method"] == "POST" and "batch/create" in r["path"]
    )


def test_executemany(emu, hub) -> None:
    titles = [_title(f"many{i}") for i in range(3)]
    cur = hub.cursor()
    before = _creates(emu)
    cur.executemany(
        "INSERT INTO events_Draft (title, city, attendees) VALUES (?, ?, ?)",
        [[t, "Porto", i] for i, t in enumerate(titles)],
    )
    assert cur.rowcount == 3
    # The sets went out as one multi-row INSERT: one batch call, not three.
    assert _creates(emu) - before == 1
    (n,) = cur.execute(
        "SELECT COUNT(*) FROM events_Draft WHERE city = ? AND title IN (?, ?, ?)", ["Porto", *titles]
    ).fetchone()
    assert n == 3
    cur.executemany("UPDATE events_Draft SET attendees = ? WHERE title = ?", [(7, t) for t in titles])
    assert cur.rowcount == 3
    # Connection.executemany too; a generator of parameter sets works.
    done = hub.executemany("DELETE FROM events_Draft WHERE title = ?", ((t,) for t in titles))
    assert done.rowcount == 3


def test_executemany_refuses_select_and_exec(hub) -> None:
    cur = hub.cursor()
    with pytest.raises(hubdb.ProgrammingError, match="only INSERT, UPDATE and DELETE"):
        cur.executemany("SELECT * FROM events WHERE Id = ?", [[1], [2]])
    with pytest.raises(hubdb.ProgrammingError):
        cur.executemany("EXEC PublishTable TableName = ?", [["events"]])


def test_executemany_failures(hub) -> None:
    title = _title("partial")
    cur = hub.cursor()
    # A bad INSERT parameter set is found before anything is sent.
    with pytest.raises(hubdb.ProgrammingError) as failed:
        cur.executemany(
            "INSERT INTO events_Draft (title, attendees) VALUES (?, ?)",
            [[title, 1], [title, object()]],
        )
    assert any("parameter set 1" in note for note in failed.value.__notes__)
    assert cur.rowcount == 0
    assert hub.execute("SELECT COUNT(*) FROM events_Draft WHERE title = ?", [title]).fetchone() == (0,)
    # Other statements run set by set: the sets before a failure stay applied.
    hub.execute("INSERT INTO events_Draft (title, attendees) VALUES (?, 1)", [title])
    with pytest.raises(hubdb.ProgrammingError) as failed:
        cur.executemany(
            "UPDATE events_Draft SET attendees = ? WHERE title = ?", [[5, title], [object(), title]]
        )
    assert any("parameter set 1 failed" in note for note in failed.value.__notes__)
    assert cur.rowcount == 1
    assert hub.execute("SELECT attendees FROM events_Draft WHERE title = ?", [title]).fetchone() == (5,)
    hub.execute("DELETE FROM events_Draft WHERE title = ?", [title])


def test_write_to_published_view_is_refused(hub) -> None:
    with pytest.raises(hubdb.ProgrammingError) as refused:
        hub.execute("INSERT INTO events (title) VALUES ('nope')")
    assert "events" in str(refused.value)


def test_publish_through_exec(hub) -> None:
    title = _title("publish")
    hub.execute("INSERT INTO events_Draft (title, city) VALUES (?, 'Faro')", [title])
    cur = hub.execute("EXEC PublishTable TableName = 'events'")
    assert cur.description is not None
    cur.fetchall()
    assert hub.execute("SELECT COUNT(*) FROM events WHERE title = ?", [title]).fetchone() == (1,)
    hub.execute("DELETE FROM events_Draft WHERE title = ?", [title])
    hub.execute("EXEC PublishTable TableName = 'events'").fetchall()


def test_lastrowid_is_the_new_key(hub) -> None:
    cur = hub.cursor()
    assert cur.lastrowid is None
    title = _title("lastrowid")
    cur.execute("INSERT INTO events_Draft (title) VALUES (?)", [title])
    new_id = cur.lastrowid
    assert isinstance(new_id, int)
    assert cur.execute("SELECT Id FROM events_Draft WHERE title = ?", [title]).fetchone() == (new_id,)
    assert cur.lastrowid is None  # a SELECT sets none
    assert hub.execute("SELECT SCOPE_IDENTITY()").fetchone() == (str(new_id),)
    cur.executemany("INSERT INTO events_Draft (title) VALUES (?)", [[title], [title]])
    last = cur.lastrowid
    ids = [r[0] for r in cur.execute("SELECT Id FROM events_Draft WHERE title = ? ORDER BY Id", [title])]
    assert last == ids[-1] and len(ids) == 3
    cur.execute("DELETE FROM events_Draft WHERE title = ?", [title])
    assert cur.rowcount == 3
    assert cur.lastrowid is None
    cur.close()
    assert cur.rowcount == 3  # kept after close (SQLAlchemy reads it then)


def test_callproc(hub) -> None:
    cur = hub.cursor()
    params = {"TableName": "organizers", "@Draft": None}
    assert cur.callproc("ResetDraft", params) is params
    assert [d[0] for d in cur.description] == ["TableId", "Name", "Published", "PublishedAt", "RowCount"]
    assert cur.fetchone()[1] == "organizers"
    assert cur.callproc("hubdb.PublishTable", ("organizers",)) == ("organizers",)
    assert cur.fetchone()[1] == "organizers"
    assert cur.nextset() is None
    assert cur.description is None

    with pytest.raises(hubdb.ProgrammingError) as e:
        cur.callproc("PublishTable", ["events", "extra"])
    assert str(e.value) == "callproc: PublishTable takes 1 input(s) (TableName), 2 value(s) were given"
    with pytest.raises(hubdb.ProgrammingError) as e:
        cur.callproc("Publish]Table; DROP", [])
    assert str(e.value) == (
        'callproc: "Publish]Table; DROP" is not a procedure name (letters, digits and _, optionally schema.name)'
    )
    with pytest.raises(hubdb.ProgrammingError) as e:
        cur.callproc("PublishTable", {"Table Name": "events"})
    assert str(e.value) == 'callproc: "Table Name" is not an input name (letters, digits and _)'
    with pytest.raises(hubdb.ProgrammingError) as e:
        cur.callproc("PublishTabel", ["events"])
    assert str(e.value).startswith("procedure PublishTabel not found")


def test_connection_exposes_the_exception_classes(hub) -> None:
    for name in [
        "Warning", "Error", "InterfaceError", "DatabaseError", "DataError", "OperationalError",
        "IntegrityError", "InternalError", "ProgrammingError", "NotSupportedError",
    ]:
        assert getattr(hub, name) is getattr(hubdb, name)
    with pytest.raises(hub.ProgrammingError):
        hub.execute("SELECT nope FROM events")
