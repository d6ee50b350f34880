"""The DB-API 2.0 compliance suite (PyPI ``dbapi-compliance``, module ``dbapi20``) against
``connector.hubdb`` on the HubSpot emulator, subclassed as a driver author would.

How the suite's tables map onto HubDB:

- DDL: HubDB has no CREATE/DROP TABLE statement; tables are created and deleted with the
  ``CreateTable`` / ``DeleteTable`` procedures (``ddl1``/``ddl2``/``xddl1``/``xddl2`` below).
  A procedure returns a result set (the table's id, name, ...), where the suite expects DDL to
  have none: ``executeDDL1``/``executeDDL2`` (helpers the suite lets drivers override) discard
  it with ``nextset()``.
- Writes: a HubDB table is written through its draft, ``<name>_Draft``, and every HubDB row
  starts with seven built-in columns (``Id``, ``CreatedAt``, ...), so an INSERT names its
  columns. The suite writes ``insert into dbapi20test_booze values (...)`` and reads
  ``dbapi20test_booze``; the tests that do are overridden below with the same steps and
  assertions on ``dbapi20test_booze_Draft`` with a column list. Every such override says
  which test it replaces; nothing else in them differs.
- ``test_callproc`` calls a procedure HubDB has (``CreateTable``) instead of ``lower``,
  ``test_nextset`` checks that a procedure's single result set is followed by None, and
  ``test_setoutputsize`` checks that a long value comes back whole (the suite leaves both to
  the driver).

pytest prints the result of every test; nothing here is skipped.
"""

from __future__ import annotations

import dbapi20
import pytest

import connector.hubdb as hubdb
from connector.testing import Emulator

PREFIX = "dbapi20test_"
BOOZE = f"{PREFIX}booze_Draft"
BARFLYS = f"{PREFIX}barflys_Draft"


class TestHubDB(dbapi20.DatabaseAPI20Test):
    driver = hubdb
    connect_args: tuple = ()  # the emulator's connection string, set per test below
    connect_kw_args: dict = {}
    table_prefix = PREFIX

    ddl1 = f"EXEC CreateTable Name = '{PREFIX}booze', Columns = 'name:TEXT'"
    ddl2 = f"EXEC CreateTable Name = '{PREFIX}barflys', Columns = 'name:TEXT, drink:TEXT'"
    xddl1 = f"EXEC DeleteTable TableName = '{PREFIX}booze'"
    xddl2 = f"EXEC DeleteTable TableName = '{PREFIX}barflys'"

    @pytest.fixture(autouse=True)
    def _emulator(self, emu: Emulator) -> None:
        self.connect_args = (emu.hubdb_private_app(),)

    def executeDDL1(self, cursor) -> None:  # noqa: N802 - the suite's name
        cursor.execute(self.ddl1)
        cursor.nextset()  # the procedure's row describes the new table; DDL has no result

    def executeDDL2(self, cursor) -> None:  # noqa: N802
        cursor.execute(self.ddl2)
        cursor.nextset()

    def _populate(self) -> list[str]:
        return [f"insert into {BOOZE} (name) values ('{s}')" for s in self.samples]

    # -- the suite's tests on the draft tables ----------------------------------------------

    def test_cursor_isolation(self) -> None:
        con = self._connect()
        try:
            cur1 = con.cursor()
            cur2 = con.cursor()
            self.executeDDL1(cur1)
            cur1.execute(f"insert into {BOOZE} (name) values ('Victoria Bitter')")
            cur2.execute(f"select name from {BOOZE}")
            booze = cur2.fetchall()
            self.assertEqual(len(booze), 1)
            self.assertEqual(len(booze[0]), 1)
            self.assertEqual(booze[0][0], "Victoria Bitter")
        finally:
            con.close()

    def test_description(self) -> None:
        con = self._connect()
        try:
            cur = con.cursor()
            self.executeDDL1(cur)
            self.assertEqual(cur.description, None)
            cur.execute(f"select name from {BOOZE}")
            self.assertEqual(len(cur.description), 1)
            self.assertEqual(len(cur.description[0]), 7)
            self.assertEqual(cur.description[0][0].lower(), "name")
            self.assertEqual(cur.description[0][1], self.driver.STRING)
            self.executeDDL2(cur)
            self.assertEqual(cur.description, None)
        finally:
            con.close()

    def test_rowcount(self) -> None:
        con = self._connect()
        try:
            cur = con.cursor()
            self.executeDDL1(cur)
            self.assertIn(cur.rowcount, (-1, 0))
            cur.execute(f"insert into {BOOZE} (name) values ('Victoria Bitter')")
            self.assertIn(cur.rowcount, (-1, 1))
            cur.execute(f"select name from {BOOZE}")
            self.assertIn(cur.rowcount, (-1, 1))
            self.executeDDL2(cur)
            self.assertIn(cur.rowcount, (-1, 0))
        finally:
            con.close()

    def _paraminsert(self, cur) -> None:
        # Used by test_execute, test_setinputsizes and test_setoutputsize_basic.
        self.executeDDL2(cur)
        cur.execute(
            f"insert into {BARFLYS} (name, drink) values ('Victoria Bitter', 'thi%s :may ca%(u)se? troub:1e')"
        )
        self.assertIn(cur.rowcount, (-1, 1))
        cur.execute(
            f"insert into {BARFLYS} (name, drink) values (?, 'thi%s :may ca%(u)se? troub:1e')",
            ("Cooper's",),
        )
        self.assertIn(cur.rowcount, (-1, 1))
        cur.execute(f"select name, drink from {BARFLYS}")
        res = cur.fetchall()
        self.assertEqual(len(res), 2, "cursor.fetchall returned too few rows")
        beers = sorted([res[0][0], res[1][0]])
        self.assertEqual(beers[0], "Cooper's")
        self.assertEqual(beers[1], "Victoria Bitter")
        trouble = "thi%s :may ca%(u)se? troub:1e"
        self.assertEqual(res[0][1], trouble)
        self.assertEqual(res[1][1], trouble)

    def test_executemany(self) -> None:
        con = self._connect()
        try:
            cur = con.cursor()
            self.executeDDL1(cur)
            cur.executemany(f"insert into {BOOZE} (name) values (?)", [("Cooper's",), ("Boag's",)])
            self.assertIn(cur.rowcount, (-1, 2))
            cur.execute(f"select name from {BOOZE}")
            res = cur.fetchall()
            self.assertEqual(len(res), 2)
            beers = sorted([res[0][0], res[1][0]])
            self.assertEqual(beers[0], "Boag's")
            self.assertEqual(beers[1], "Cooper's")
        finally:
            con.close()

    def test_fetchone(self) -> None:
        con = self._connect()
        try:
            cur = con.cursor()
            self.assertRaises(self.driver.Error, cur.fetchone)
            self.executeDDL1(cur)
            self.assertRaises(self.driver.Error, cur.fetchone)
            cur.execute(f"select name from {BOOZE}")
            self.assertEqual(cur.fetchone(), None)
            self.assertIn(cur.rowcount, (-1, 0))
            cur.execute(f"insert into {BOOZE} (name) values ('Victoria Bitter')")
            self.assertRaises(self.driver.Error, cur.fetchone)
            cur.execute(f"select name from {BOOZE}")
            r = cur.fetchone()
            self.assertEqual(len(r), 1)
            self.assertEqual(r[0], "Victoria Bitter")
            self.assertEqual(cur.fetchone(), None)
            self.assertIn(cur.rowcount, (-1, 1))
        finally:
            con.close()

    def test_fetchmany(self) -> None:
        con = self._connect()
        try:
            cur = con.cursor()
            self.assertRaises(self.driver.Error, cur.fetchmany, 4)
            self.executeDDL1(cur)
            for sql in self._populate():
                cur.execute(sql)
            cur.execute(f"select name from {BOOZE}")
            r = cur.fetchmany()
            self.assertEqual(len(r), 1, "default of arraysize is one")
            cur.arraysize = 10
            self.assertEqual(len(cur.fetchmany(3)), 3)
            self.assertEqual(len(cur.fetchmany(4)), 2)
            self.assertEqual(len(cur.fetchmany(4)), 0)
            self.assertIn(cur.rowcount, (-1, 6))
            cur.arraysize = 4
            cur.execute(f"select name from {BOOZE}")
            self.assertEqual(len(cur.fetchmany()), 4)
            self.assertEqual(len(cur.fetchmany()), 2)
            self.assertEqual(len(cur.fetchmany()), 0)
            self.assertIn(cur.rowcount, (-1, 6))
            cur.arraysize = 6
            cur.execute(f"select name from {BOOZE}")
            rows = cur.fetchmany()
            self.assertIn(cur.rowcount, (-1, 6))
            self.assertEqual(len(rows), 6)
            self.assertEqual(sorted(r[0] for r in rows), self.samples)
            self.assertEqual(len(cur.fetchmany()), 0)
            self.assertIn(cur.rowcount, (-1, 6))
            self.executeDDL2(cur)
            cur.execute(f"select name from {BARFLYS}")
            self.assertEqual(len(cur.fetchmany()), 0)
            self.assertIn(cur.rowcount, (-1, 0))
        finally:
            con.close()

    def test_fetchall(self) -> None:
        con = self._connect()
        try:
            cur = con.cursor()
            self.assertRaises(self.driver.Error, cur.fetchall)
            self.executeDDL1(cur)
            for sql in self._populate():
                cur.execute(sql)
            self.assertRaises(self.driver.Error, cur.fetchall)
            cur.execute(f"select name from {BOOZE}")
            rows = cur.fetchall()
            self.assertIn(cur.rowcount, (-1, len(self.samples)))
            self.assertEqual(len(rows), len(self.samples))
            self.assertEqual(sorted(r[0] for r in rows), self.samples)
            self.assertEqual(len(cur.fetchall()), 0)
            self.assertIn(cur.rowcount, (-1, len(self.samples)))
            self.executeDDL2(cur)
            cur.execute(f"select name from {BARFLYS}")
            rows = cur.fetchall()
            self.assertIn(cur.rowcount, (-1, 0))
            self.assertEqual(len(rows), 0)
        finally:
            con.close()

    def test_mixedfetch(self) -> None:
        con = self._connect()
        try:
            cur = con.cursor()
            self.executeDDL1(cur)
            for sql in self._populate():
                cur.execute(sql)
            cur.execute(f"select name from {BOOZE}")
            rows1 = cur.fetchone()
            rows23 = cur.fetchmany(2)
            rows4 = cur.fetchone()
            rows56 = cur.fetchall()
            self.assertIn(cur.rowcount, (-1, 6))
            self.assertEqual(len(rows23), 2)
            self.assertEqual(len(rows56), 2)
            rows = [rows1[0], rows23[0][0], rows23[1][0], rows4[0], rows56[0][0], rows56[1][0]]
            self.assertEqual(sorted(rows), self.samples)
        finally:
            con.close()

    def test_None(self) -> None:  # noqa: N802 - the suite's name
        con = self._connect()
        try:
            cur = con.cursor()
            self.executeDDL2(cur)
            cur.execute(f"insert into {BARFLYS} (name, drink) values ('a', NULL)")
            cur.execute(f"select drink from {BARFLYS}")
            r = cur.fetchall()
            self.assertEqual(len(r), 1)
            self.assertEqual(len(r[0]), 1)
            self.assertEqual(r[0][0], None, "NULL value not returned as None")
        finally:
            con.close()

    # -- the tests the suite leaves to the driver -------------------------------------------

    def test_callproc(self) -> None:
        # The suite calls a `lower` procedure; HubDB's procedures manage tables. CreateTable
        # with positional inputs (Name, Label, Columns): callproc returns the inputs and the
        # procedure's result set is fetched from the cursor.
        con = self._connect()
        try:
            cur = con.cursor()
            args = (f"{PREFIX}booze", "Booze", "name:TEXT")
            r = cur.callproc("CreateTable", args)
            self.assertEqual(r, args)
            rows = cur.fetchall()
            self.assertEqual(len(rows), 1, "callproc produced no result set")
            self.assertEqual([d[0] for d in cur.description][:2], ["TableId", "Name"])
            self.assertEqual(rows[0][1], f"{PREFIX}booze")
            # The table exists: its draft takes rows.
            cur.execute(f"insert into {BOOZE} (name) values (?)", ["Redback"])
            self.assertEqual(cur.execute(f"select name from {BOOZE}").fetchall(), [("Redback",)])
        finally:
            con.close()

    def test_nextset(self) -> None:
        # No statement or procedure returns more than one result set: nextset() returns None
        # (PEP 249: no more sets) and the rest of the current set is dropped.
        con = self._connect()
        try:
            cur = con.cursor()
            self.executeDDL1(cur)
            for sql in self._populate():
                cur.execute(sql)
            cur.execute(f"select name from {BOOZE}")
            self.assertIsNotNone(cur.fetchone())
            self.assertIsNone(cur.nextset())
            self.assertIsNone(cur.description)
            self.assertRaises(self.driver.Error, cur.fetchone)
            cur.callproc("PublishTable", [f"{PREFIX}booze"])
            self.assertEqual(len(cur.fetchall()), 1)
            self.assertIsNone(cur.nextset())
        finally:
            con.close()

    def test_setoutputsize(self) -> None:
        # setoutputsize() is accepted and changes nothing: long values are never truncated.
        con = self._connect()
        try:
            cur = con.cursor()
            self.executeDDL1(cur)
            long_value = "x" * 5000
            cur.setoutputsize(100)
            cur.setoutputsize(100, 0)
            cur.execute(f"insert into {BOOZE} (name) values (?)", [long_value])
            cur.execute(f"select name from {BOOZE}")
            self.assertEqual(cur.fetchone(), (long_value,))
        finally:
            con.close()
