#!/usr/bin/env python3
"""A hand-written HubDB scan with `requests`: the baseline a user might write instead of an SDK.

Usage: hubdb_requests.py BASE_URL TOKEN TABLE [FILTER]

One `requests.Session`, `limit=1000`, follows `paging.next.after`, decodes each page with
`Response.json()` and counts the rows. On a 429 it sleeps one second and tries again (HubSpot
sends no Retry-After on its 10-second limit). FILTER is a query string (`attendees__gte=495`).
Prints one JSON line: rows, pages, retries (429s seen) and `seconds` (first request to last row).
"""

import json
import sys
import time
from urllib.parse import parse_qsl

import requests


def main(argv) -> int:
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    base, token, table = argv[0].rstrip("/"), argv[1], argv[2]
    filt = dict(parse_qsl(argv[3])) if len(argv) > 3 else {}
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    url = f"{base}/cms/v3/hubdb/tables/{table}/rows"
    rows = pages = retries = 0
    after = None
    started = time.perf_counter()
    while True:
        params = dict(filt, limit=1000)
        if after is not None:
            params["after"] = after
        resp = session.get(url, params=params)
        if resp.status_code == 429:
            retries += 1
            time.sleep(1.0)
            continue
        resp.raise_for_status()
        body = resp.json()
        rows += len(body["results"])
        pages += 1
        after = body.get("paging", {}).get("next", {}).get("after")
        if after is None:
            break
    seconds = time.perf_counter() - started
    print(json.dumps({"rows": rows, "pages": pages, "retries": retries, "seconds": round(seconds, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
