"""Drives a running gateway with the ADBC Flight SQL driver, as a user's program would, and
DuckDB over it (a gateway result streamed into DuckDB as an Arrow RecordBatchReader).

Run by gateway/tests/adbc.rs, which starts the emulators and the gateway and checks the
emulator's request log afterwards. Reads GATEWAY_URI, and the credentials of three users:
ALICE (password, sees every connection), BOB (password, sees only acton_main) and the static
bearer token ETL_TOKEN. Prints one JSON object with what each step saw; the Rust test asserts it.
"""

import json
import os
import warnings

import adbc_driver_flightsql.dbapi as flightsql
import duckdb
import pandas

# The driver warns that autocommit cannot be turned off: the gateway has no transactions.
warnings.simplefilter("ignore")

URI = os.environ["GATEWAY_URI"]


def connect(username=None, password=None, token=None):
    kwargs = {}
    if username is not None:
        kwargs = {"username": username, "password": password}
    if token is not None:
        kwargs = {"adbc.flight.sql.authorization_header": f"Bearer {token}"}
    return flightsql.connect(URI, db_kwargs=kwargs)


def error_of(action):
    """The error text of a call expected to fail (None when it succeeds)."""
    try:
        action()
    except Exception as e:  # the driver raises its own DB-API exception classes
        return f"{type(e).__name__}: {e}"
    return None


def rows(cursor, statement, params=None):
    cursor.execute(statement, params)
    return [list(r) for r in cursor.fetchall()]


def fields(schema):
    """A schema as [name, type] pairs (None when the driver got none)."""
    return None if schema is None else [[f.name, str(f.type)] for f in schema]


def prepared_statements(conn, out):
    """What a prepared statement advertises before it runs, and that it runs as advertised."""
    query = "SELECT title, attendees FROM portal_eu.events WHERE attendees > ? AND city = ? ORDER BY title LIMIT 2"
    cur = conn.cursor()
    out["prepared_parameters"] = fields(cur.adbc_prepare(query))
    # The same text again: the driver reuses the prepared statement, and its dataset schema.
    advertised = cur.adbc_execute_schema(query)
    out["prepared_result"] = fields(advertised)
    cur.execute(query, [498, "Berlin"])
    table = cur.fetch_arrow_table()
    out["prepared_rows"] = [list(r.values()) for r in table.to_pylist()]
    out["prepared_schema_kept"] = table.schema.equals(advertised)

    # A write has parameters, typed by nobody yet, and no result set to advertise.
    insert = "INSERT INTO portal_eu.events_Draft (title, attendees) VALUES (?, ?)"
    out["prepared_insert_parameters"] = fields(cur.adbc_prepare(insert))
    out["prepared_insert_result"] = error_of(lambda: cur.adbc_execute_schema(insert))
    out["prepared_no_parameters"] = fields(cur.adbc_prepare("SELECT COUNT(*) AS n FROM sys_schemas"))
    cur.close()


def duckdb_over_the_gateway(conn, out):
    """DuckDB aggregates a gateway result it reads as an Arrow stream, batch by batch."""
    cur = conn.cursor()
    cur.execute("SELECT city, attendees FROM portal_eu.events")
    reader = cur.fetch_record_batch()
    out["duckdb_reader"] = type(reader).__name__
    db = duckdb.connect()
    db.register("gateway_events", reader)
    out["duckdb_by_city"] = [
        list(r)
        for r in db.execute(
            "SELECT city, COUNT(*) AS events, SUM(attendees) AS attendees FROM gateway_events "
            "WHERE city IS NOT NULL GROUP BY city ORDER BY city"
        ).fetchall()
    ]
    db.close()
    cur.close()
    # The same aggregate computed by the gateway, for the test to compare.
    out["gateway_by_city"] = rows(
        conn.cursor(),
        "SELECT city, COUNT(*) AS events, SUM(attendees) AS attendees FROM portal_eu.events "
        "WHERE city IS NOT NULL GROUP BY city ORDER BY city",
    )


def main():
    out = {}
    alice = connect(os.environ["ALICE_USER"], os.environ["ALICE_PASSWORD"])
    cur = alice.cursor()

    # SELECT with pushdown: the filter, order and limit reach HubDB (the test reads the log).
    out["pushdown"] = rows(
        cur,
        "SELECT title, attendees FROM portal_eu.events "
        "WHERE attendees >= 499 AND city = 'Berlin' ORDER BY attendees DESC LIMIT 2",
    )
    out["parameters"] = rows(
        cur, "SELECT COUNT(*) FROM portal_eu.events WHERE attendees > ? AND city = ?", [250, "Berlin"]
    )
    prepared_statements(alice, out)
    cur.execute("SELECT * FROM acton_main.List_Customers LIMIT 3")
    out["acton_rows"] = cur.fetch_arrow_table().num_rows

    # DML: plain, with parameters, and many rows at once.
    cur.execute(
        "INSERT INTO portal_eu.events_Draft (title, city, attendees) VALUES ('Gateway launch', 'Lisbon', 999)"
    )
    out["insert_rowcount"] = cur.rowcount
    cur.execute(
        "INSERT INTO portal_eu.events_Draft (title, city, attendees) VALUES (?, ?, ?)",
        ["Gateway meetup", "Porto", 42],
    )
    out["insert_param_rowcount"] = cur.rowcount
    cur.executemany(
        "INSERT INTO portal_eu.events_Draft (title, attendees) VALUES (?, ?)",
        [["Gateway A", 1], ["Gateway B", 2]],
    )
    out["executemany_rowcount"] = cur.rowcount
    cur.execute("UPDATE portal_eu.events_Draft SET attendees = 3 WHERE title = 'Gateway B'")
    out["update_rowcount"] = cur.rowcount

    # EXEC: publish the drafts, then read the new row from the published table.
    cur.execute("EXEC PublishTable TableName='events'")
    out["exec_columns"] = [d[0] for d in cur.description]
    cur.fetchall()
    out["published"] = rows(
        cur, "SELECT title, city, attendees FROM portal_eu.events WHERE title = 'Gateway launch'"
    )

    # Metadata, as ADBC clients ask for it.
    objects = alice.adbc_get_objects(depth="tables").read_all().to_pylist()
    out["catalogs"] = [o["catalog_name"] for o in objects]
    out["schemas"] = sorted(s["db_schema_name"] for o in objects for s in o["catalog_db_schemas"])
    out["portal_eu_has_events"] = any(
        t["table_name"] == "events"
        for o in objects
        for s in o["catalog_db_schemas"]
        if s["db_schema_name"] == "portal_eu"
        for t in s["db_schema_tables"]
    )
    schema = alice.adbc_get_table_schema("events", db_schema_filter="portal_eu")
    out["events_columns"] = schema.names[:3]
    info = alice.adbc_get_info()
    out["vendor_name"] = info["vendor_name"]
    out["table_types"] = sorted(alice.adbc_get_table_types())

    # pandas over the same connection.
    frame = pandas.read_sql("SELECT title, city FROM portal_eu.events ORDER BY title LIMIT 4", alice)
    out["pandas_shape"] = list(frame.shape)
    cur.execute("SELECT Id FROM portal_eu.events")
    out["pyarrow_rows"] = cur.fetch_arrow_table().num_rows
    duckdb_over_the_gateway(alice, out)

    # Errors a user sees.
    out["unknown_table"] = error_of(lambda: alice.cursor().execute("SELECT * FROM portal_eu.evnts"))
    out["no_credentials"] = error_of(lambda: connect().cursor().execute("SELECT 1"))
    out["bad_password"] = error_of(lambda: connect(os.environ["ALICE_USER"], "wrong").cursor().execute("SELECT 1"))

    # Bob sees only acton_main: portal_eu does not exist for him.
    bob = connect(os.environ["BOB_USER"], os.environ["BOB_PASSWORD"])
    out["bob_schemas"] = sorted(
        s["db_schema_name"]
        for o in bob.adbc_get_objects(depth="db_schemas").read_all().to_pylist()
        for s in o["catalog_db_schemas"]
    )
    out["bob_portal_eu"] = error_of(lambda: bob.cursor().execute("SELECT * FROM portal_eu.events"))
    out["bob_acton_rows"] = rows(bob.cursor(), "SELECT COUNT(*) FROM acton_main.List_Customers")

    # A static bearer token from the users file.
    etl = connect(token=os.environ["ETL_TOKEN"])
    out["etl_rows"] = rows(etl.cursor(), "SELECT COUNT(*) FROM sys_schemas")
    out["bad_token"] = error_of(lambda: connect(token="not-a-token").cursor().execute("SELECT 1"))

    for c in (alice, bob, etl):
        c.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
