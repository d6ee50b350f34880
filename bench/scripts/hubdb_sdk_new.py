#!/usr/bin/env python3
"""HubDB scans through HubSpot's newer official Python SDK (`hubspot-sdk`), for the benchmarks.

Usage: hubdb_sdk_new.py BASE_URL TOKEN TABLE [FILTER]

The SDK is generated from the date-versioned specs and calls `/cms/hubdb/2026-03/...` only.
`rows.list` returns one page and does not follow the cursor itself, so this loop does, with
`limit` at HubDB's maximum (1000), every page parsed into the SDK's models. FILTER (a query
string such as `attendees__gte=495`) goes through the SDK's `extra_query`, since `rows.list`
has no parameter for HubDB's column filters. 429s are retried by the SDK itself
(`max_retries`, exponential backoff, honouring `Retry-After` when sent).

Prints one JSON line on stdout: rows received, pages, and `seconds` from the first request to
the last row (interpreter start and imports excluded; the caller times the whole process too).
"""

import json
import sys
import time
from urllib.parse import parse_qsl

from hubspot_sdk import HubSpot


def main(argv) -> int:
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    base, token, table = argv[0].rstrip("/"), argv[1], argv[2]
    extra = dict(parse_qsl(argv[3])) if len(argv) > 3 else None
    client = HubSpot(access_token=token, base_url=base, max_retries=8)
    rows = pages = 0
    after = None
    started = time.perf_counter()
    while True:
        kwargs = {"limit": 1000}
        if after is not None:
            kwargs["after"] = after
        if extra is not None:
            kwargs["extra_query"] = extra
        page = client.cms.hubdb.rows.list(table, **kwargs)
        rows += len(page.results)
        pages += 1
        nxt = page.paging.next if page.paging is not None else None
        after = nxt.after if nxt is not None else None
        if after is None:
            break
    seconds = time.perf_counter() - started
    print(json.dumps({"rows": rows, "pages": pages, "seconds": round(seconds, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
