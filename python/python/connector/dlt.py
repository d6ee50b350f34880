"""A `dlt <https://dlthub.com>`_ source over the connector: one resource per table, yielding
pyarrow tables (dlt's fast path, no normalisation of Python rows), incremental on the table's
cursor column, merged into the destination by the table's key.

Three lines load HubDB tables into DuckDB, and each later run loads only the rows changed since::

    import dlt, connector.dlt
    pipeline = dlt.pipeline("hubdb", destination="duckdb", dataset_name="hubdb")
    pipeline.run(connector.dlt.source("AuthScheme=PrivateApp;PrivateAppToken=...", tables=["events"]))

- Cursor: ``UpdatedAt`` (HubDB) or ``__modified_date`` (Act-On lists), through
  ``dlt.sources.incremental``. The connector pushes ``WHERE <cursor> >= <last value>`` to the
  API (``hs_updated_at__gte`` on HubDB, ``modafter`` on Act-On), and dlt drops the rows at the
  last value it already loaded. ``lag`` (seconds) re-reads rows changed that long before the
  last value, for rows written while a run read (see ``docs/sync.md``); merge makes re-reads
  harmless.
- ``write_disposition="merge"`` with ``primary_key`` = the table's key (``Id``, ``ContactId``).
- Deletions are not propagated: ``connector <source> sync`` detects them, or load with
  ``write_disposition="replace"`` now and then.
- The connection string stays in a closure: it is not a resource argument, so dlt keeps it out
  of its state, traces and logs.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Sequence
from typing import Any

import dlt
import pyarrow as pa

#: Cursor columns in order of preference, as the Rust sync engine picks them.
CURSOR_COLUMNS = ("UpdatedAt", "__modified_date")


def _connect(service: str, connection_string: str) -> Any:
    return importlib.import_module(f"connector.{service}").connect(connection_string)


def _key_and_cursor(conn: Any, table: str) -> tuple[list[str], str | None]:
    """The key columns and cursor column of ``table`` (from ``sys_tablecolumns``)."""
    rows = conn.execute(
        "SELECT ColumnName, IsKey FROM sys_tablecolumns WHERE TableName = ?", [table]
    ).fetchall()
    if not rows:
        raise ValueError(f"unknown table {table!r}: list the tables with SELECT TableName FROM sys_tables")
    names = [name for name, _ in rows]
    keys = [name for name, is_key in rows if is_key]
    cursor = next((c for c in CURSOR_COLUMNS if c in names), None)
    return keys, cursor


def _tables(conn: Any) -> list[str]:
    """Every table with one key column and a cursor column."""
    names = [r[0] for r in conn.execute("SELECT TableName FROM sys_tables").fetchall()]
    out = []
    for name in names:
        keys, cursor = _key_and_cursor(conn, name)
        if len(keys) == 1 and cursor is not None:
            out.append(name)
    return out


def _batches(service: str, connection_string: str, sql: str, params: list[Any]) -> Iterator[pa.Table]:
    with _connect(service, connection_string) as conn:
        cur = conn.execute(sql, params)
        reader = pa.RecordBatchReader.from_stream(cur.fetch_arrow_stream())
        for batch in reader:
            if batch.num_rows:
                yield pa.Table.from_batches([batch])


def _resource(
    service: str,
    connection_string: str,
    table: str,
    key: str,
    cursor: str | None,
    lag: float | None,
) -> Any:
    select = f"SELECT * FROM [{table}]"
    if cursor is None:

        def whole() -> Iterator[pa.Table]:
            yield from _batches(service, connection_string, select, [])

        return dlt.resource(whole, name=table, primary_key=key, write_disposition="merge")

    incremental = dlt.sources.incremental(cursor, lag=lag) if lag else dlt.sources.incremental(cursor)

    def changed(updated: Any = incremental) -> Iterator[pa.Table]:
        if updated.last_value is None:
            yield from _batches(service, connection_string, select, [])
        else:
            sql = f"{select} WHERE [{cursor}] >= ?"
            yield from _batches(service, connection_string, sql, [updated.last_value])

    return dlt.resource(changed, name=table, primary_key=key, write_disposition="merge")


def source(
    connection_string: str,
    tables: Sequence[str] | None = None,
    *,
    service: str = "hubdb",
    lag: float | None = None,
) -> Any:
    """A dlt source with one resource per table of ``tables`` (default: every table with one key
    column and a cursor column) of the ``service`` connection (``hubdb``, ``acton``, …).

    Example::

        import dlt, connector.dlt
        pipeline = dlt.pipeline("acton", destination="duckdb", dataset_name="acton")
        pipeline.run(connector.dlt.source(cs, tables=["List_Customers"], service="acton"))
    """

    def resources() -> list[Any]:
        with _connect(service, connection_string) as conn:
            names = list(tables) if tables else _tables(conn)
            out = []
            for table in names:
                keys, cursor = _key_and_cursor(conn, table)
                if len(keys) != 1:
                    raise ValueError(
                        f"{table}: no single key column to merge by (keys: {', '.join(keys)})"
                    )
                out.append(_resource(service, connection_string, table, keys[0], cursor, lag))
        return out

    return dlt.source(resources, name=service)()
