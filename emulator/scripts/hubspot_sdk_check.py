#!/usr/bin/env python3
"""Pages through the emulator's HubDB `events` table with HubSpot's official Python SDK.

Usage (either form):
  hubspot_sdk_check.py BASE_URL TOKEN [EXPECTED_ROWS]
  hubspot_sdk_check.py --spawn -- COMMAND...   # starts the emulator, reads its JSON line, stops it

BASE_URL, TOKEN and EXPECTED_ROWS may also come from HUBSPOT_BASE_URL, HUBSPOT_TOKEN and
EXPECTED_ROWS. Without an expected count the table's `rowCount` (read through the SDK) is used.
Exits non-zero on any failure. Needs `pip install hubspot-api-client`.
"""

import json
import os
import signal
import subprocess
import sys


def check(base_url: str, token: str, expected) -> None:
    from hubspot import HubSpot

    # `host` is the generated Configuration's base; `base_url` is kept for older SDKs.
    client = HubSpot(access_token=token, host=base_url, base_url=base_url)
    table = client.cms.hubdb.tables_api.get_table_details("events")
    if expected is None:
        expected = table.row_count
    seen, after, pages = set(), None, 0
    while True:
        kwargs = {"limit": 1000}
        if after is not None:
            kwargs["after"] = after
        page = client.cms.hubdb.rows_api.get_table_rows("events", **kwargs)
        pages += 1
        if page.total != expected:
            raise AssertionError(f"page {pages}: total {page.total} != expected {expected}")
        for row in page.results:
            if row.id in seen:
                raise AssertionError(f"row {row.id} returned twice")
            seen.add(row.id)
            if "title" not in row.values:
                raise AssertionError(f"row {row.id} has no title: {row.values}")
        nxt = page.paging.next if page.paging is not None else None
        if nxt is None:
            break
        after = nxt.after
    if len(seen) != expected:
        raise AssertionError(f"paged {len(seen)} rows, expected {expected}")
    # A filtered, projected and sorted query through the same SDK.
    page = client.cms.hubdb.rows_api.get_table_rows("events", limit=500, sort=["-attendees"], properties=["title", "attendees"])
    # Empty cells are left out of `values`; sorting puts them first when descending.
    values = [r.values["attendees"] for r in page.results if "attendees" in r.values]
    if values != sorted(values, reverse=True) or any(set(r.values) - {"title", "attendees"} for r in page.results):
        raise AssertionError(f"sort/properties not honoured: {values}")
    print(f"ok: {len(seen)} rows in {pages} pages through hubspot-api-client")


def main(argv) -> int:
    proc = None
    try:
        if argv[:1] == ["--spawn"]:
            cmd = argv[2:] if argv[1:2] == ["--"] else argv[1:]
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
            line = proc.stdout.readline()
            if not line:
                raise AssertionError("emulator printed no JSON line")
            info = json.loads(line)["hubspot"]
            base, token, expected = info["base_url"], info["private_app_token"], os.environ.get("EXPECTED_ROWS")
        else:
            base = argv[0] if len(argv) > 0 else os.environ.get("HUBSPOT_BASE_URL")
            token = argv[1] if len(argv) > 1 else os.environ.get("HUBSPOT_TOKEN")
            expected = argv[2] if len(argv) > 2 else os.environ.get("EXPECTED_ROWS")
            if not base or not token:
                print(__doc__, file=sys.stderr)
                return 2
        check(base.rstrip("/"), token, int(expected) if expected else None)
        return 0
    except Exception as e:  # noqa: BLE001 - any failure is a failed check
        print(f"FAILED: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            try:
                code = proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                print("FAILED: emulator did not stop on SIGTERM", file=sys.stderr)
                return 1
            if code != 0:
                print(f"FAILED: emulator exited with {code} after SIGTERM", file=sys.stderr)
                return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
