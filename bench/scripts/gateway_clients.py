"""N concurrent ADBC Flight SQL clients against one `connector serve` gateway (scenario 7).

Usage: gateway_clients.py URI USER PASSWORD N SQL [SQL ...]
Starts N clients per statement at once (each its own connection), each reading its whole
result as Arrow; prints {"seconds": wall time, "rows": [rows of each client]}.
"""

import json
import sys
import threading
import time
import warnings

import adbc_driver_flightsql.dbapi as flightsql

warnings.simplefilter("ignore")  # "cannot disable autocommit": the gateway has no transactions


def main():
    uri, user, password, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    statements = sys.argv[5:]
    jobs = [s for s in statements for _ in range(n)]
    rows = [None] * len(jobs)
    errors = []
    start = threading.Barrier(len(jobs) + 1)

    def client(i, statement):
        conn = flightsql.connect(uri, db_kwargs={"username": user, "password": password})
        try:
            start.wait()
            cur = conn.cursor()
            cur.execute(statement)
            rows[i] = cur.fetch_arrow_table().num_rows
        except Exception as e:  # reported, and the run fails
            errors.append(str(e))
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(i, s)) for i, s in enumerate(jobs)]
    for t in threads:
        t.start()
    start.wait()
    began = time.monotonic()
    for t in threads:
        t.join()
    seconds = time.monotonic() - began
    if errors:
        print(json.dumps({"errors": errors}))
        sys.exit(1)
    print(json.dumps({"seconds": round(seconds, 3), "rows": rows}))


if __name__ == "__main__":
    main()
