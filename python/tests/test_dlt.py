"""The dlt source: loads HubDB rows into DuckDB through dlt twice with changes in between; the
destination equals the source and the second run reads only the changed rows."""

from __future__ import annotations

import pathlib

import dlt
import duckdb

import connector.dlt
import connector.hubdb as hubdb
from connector.testing import Emulator

COLUMNS = ("Id", "title", "attendees", "UpdatedAt")


def _source_rows(conn) -> list[tuple]:
    cur = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM events ORDER BY Id")
    # Instants as epoch milliseconds: both sides' time zones drop out.
    return [(*r[:3], round(r[3].timestamp() * 1000)) for r in cur.fetchall()]


def _destination_rows(path: pathlib.Path) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as db:
        return db.execute(
            'SELECT id, title, attendees, epoch_ms(updated_at) FROM hubdb.events ORDER BY id'
        ).fetchall()


def _row_queries(emu: Emulator) -> list[str]:
    return [r.get("query") or "" for r in emu.requests("hubdb") if "/rows" in r["path"]]


def test_dlt_merges_changes_into_duckdb_and_the_second_run_reads_only_them(tmp_path):
    with Emulator(hubdb_rows=250) as emu:
        cs = emu.hubdb_private_app()
        db_path = tmp_path / "warehouse.duckdb"
        pipeline = dlt.pipeline(
            pipeline_name="hubdb_events",
            destination=dlt.destinations.duckdb(str(db_path)),
            dataset_name="hubdb",
            pipelines_dir=str(tmp_path / "pipelines"),
        )
        pipeline.run(connector.dlt.source(cs, tables=["events"]))
        with hubdb.connect(cs) as conn:
            first = _source_rows(conn)
            assert len(first) == 250
            assert _destination_rows(db_path) == first

            ids = [r[0] for r in first[:3]]
            cur = conn.cursor()
            cur.execute(
                f"UPDATE events_Draft SET attendees = 4242 WHERE Id IN ({', '.join(map(str, ids))})"
            )
            assert cur.rowcount == 3
            cur.executemany(
                "INSERT INTO events_Draft (title, attendees) VALUES (?, ?)",
                [["dlt Day", 1], ["Merge Meetup", 2]],
            )
            conn.execute("EXEC PublishTable TableName='events'")
            before = len(_row_queries(emu))

            pipeline.run(connector.dlt.source(cs, tables=["events"]))
            assert pipeline.last_trace.last_normalize_info.row_counts["events"] == 5
            second = _row_queries(emu)[before:]
            assert second and all("hs_updated_at__gte=" in q for q in second), second

            assert _destination_rows(db_path) == _source_rows(conn)
        assert sorted(r[2] for r in _destination_rows(db_path) if r[0] in ids) == [4242.0] * 3

        # The token is in no file dlt wrote (state, schemas, traces, load packages).
        token = cs.split("PrivateAppToken=")[1].split(";")[0]
        for path in (tmp_path / "pipelines").rglob("*"):
            if path.is_file():
                assert token.encode() not in path.read_bytes(), path
