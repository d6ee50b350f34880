#!/usr/bin/env python3
"""Drives the emulator's date-versioned HubDB API with HubSpot's newer official Python SDK.

The SDK (PyPI `hubspot-sdk`, module `hubspot_sdk`) is generated from the 2026-03 specs and
calls `/cms/hubdb/2026-03/...` only. Its models are parsed with strict response validation,
so a missing or mistyped required field in an emulator answer fails the check.

It lists the tables (following the SDK's auto-pagination), pages through every row of
`events`, creates a draft row and reads it back, publishes the table, and asserts every
count exactly.

Usage (either form):
  hubspot_sdk_new_check.py BASE_URL TOKEN [EXPECTED_ROWS]
  hubspot_sdk_new_check.py --spawn -- COMMAND...   # starts the emulator, reads its JSON line, stops it

BASE_URL, TOKEN and EXPECTED_ROWS may also come from HUBSPOT_BASE_URL, HUBSPOT_TOKEN and
EXPECTED_ROWS. Without an expected count the table's `rowCount` (read through the SDK) is used.
With --spawn the token is the emulator's service key (the successor of private-app tokens).
Exits non-zero on any failure. Needs `pip install hubspot-sdk`.
"""

import json
import os
import signal
import subprocess
import sys


def check(base_url: str, token: str, expected) -> None:
    from hubspot_sdk import HubSpot

    # No retries: the SDK retries 408/409/429/5xx, which would hide an emulator error.
    client = HubSpot(access_token=token, base_url=base_url, max_retries=0, _strict_response_validation=True)
    hubdb = client.cms.hubdb

    # Tables, one per page, so the SDK's auto-pagination follows `paging.next.after`.
    published = [t.name for t in hubdb.tables.list(limit=1)]
    drafts = [t.name for t in hubdb.tables.list_draft(limit=1)]
    if len(published) != len(set(published)) or "events" not in published:
        raise AssertionError(f"published tables: {published}")
    if not set(published) < set(drafts):
        raise AssertionError(f"draft tables {drafts} should include every published one {published} and more")
    table = hubdb.tables.get("events")
    if expected is None:
        expected = table.row_count
    if table.row_count != expected or not table.published:
        raise AssertionError(f"events: rowCount {table.row_count} published {table.published}, expected {expected} rows")

    # Every published row, following the cursor the SDK exposes.
    seen, after, pages = set(), None, 0
    while True:
        kwargs = {"limit": 1000}
        if after is not None:
            kwargs["after"] = after
        page = hubdb.rows.list("events", **kwargs)
        pages += 1
        if page.type != "STREAMING" or page.total != expected:
            raise AssertionError(f"page {pages}: type {page.type} total {page.total}, expected STREAMING {expected}")
        for row in page.results:
            # Row items are untyped in the spec (a dangling schema reference), so dicts.
            rid = row["id"]
            if rid in seen:
                raise AssertionError(f"row {rid} returned twice")
            seen.add(rid)
            if "title" not in row["values"]:
                raise AssertionError(f"row {rid} has no title: {row['values']}")
        nxt = page.paging.next if page.paging is not None else None
        if nxt is None:
            break
        after = nxt.after
    if len(seen) != expected:
        raise AssertionError(f"paged {len(seen)} rows, expected {expected}")
    want_pages = max(1, -(-expected // 1000))
    if pages != want_pages:
        raise AssertionError(f"{pages} pages, expected {want_pages}")

    # Offset paging answers the other variant of the union.
    page = hubdb.rows.list("events", limit=10, offset=expected - 5)
    if page.type != "RANDOM_ACCESS" or len(page.results) != 5 or page.total != expected:
        raise AssertionError(f"offset page: type {page.type} rows {len(page.results)} total {page.total}")

    # A draft row: written, read back as a typed row, absent from the published version.
    created = hubdb.rows.create(
        "events",
        child_table_id=0,
        display_index=0,
        values={"title": "Written by hubspot-sdk", "attendees": 42},
        path="hubspot-sdk-row",
        name="hubspot-sdk row",
    )
    draft = hubdb.rows.get_draft(created.id, table_id_or_name="events")
    if (draft.id, draft.name, draft.path, draft.values.get("title"), draft.values.get("attendees")) != (
        created.id,
        "hubspot-sdk row",
        "hubspot-sdk-row",
        "Written by hubspot-sdk",
        42,
    ):
        raise AssertionError(f"draft row read back as {draft}")
    draft_table = hubdb.tables.get_draft("events")
    if draft_table.row_count != expected + 1:
        raise AssertionError(f"draft rowCount {draft_table.row_count}, expected {expected + 1}")
    if hubdb.rows.list("events", limit=1).total != expected:
        raise AssertionError("the draft row leaked into the published version")

    # Publish, then the published version has the new row too.
    table = hubdb.tables.publish_draft("events")
    if not table.published or table.row_count != expected + 1:
        raise AssertionError(f"publish answered published={table.published} rowCount={table.row_count}")
    live = hubdb.rows.get(created.id, table_id_or_name="events")
    if live.values.get("title") != "Written by hubspot-sdk":
        raise AssertionError(f"published row is {live}")
    total = hubdb.rows.list("events", limit=1).total
    if total != expected + 1:
        raise AssertionError(f"published total {total}, expected {expected + 1}")
    print(
        f"ok: {len(published)} published / {len(drafts)} draft tables, {len(seen)} rows in {pages} pages, "
        f"draft row {created.id} published, through hubspot-sdk"
    )


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
            base, token, expected = info["base_url"], info["service_key"], os.environ.get("EXPECTED_ROWS")
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
