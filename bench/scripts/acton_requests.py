#!/usr/bin/env python3
"""A hand-written Act-On list download with `requests`: the baseline for the Act-On benchmark.

Usage: acton_requests.py BASE_URL ACCESS_TOKEN LIST_ID

One `requests.Session`, `GET /api/1/list/{id}?count=1000&offset=N` until a short page, each page
decoded with `Response.json()`. On a 429 it sleeps for `Retry-After` seconds (Act-On sends it) and
tries again. No client-side pacing: that is what a simple loop does.
Prints one JSON line: rows, pages, retries (429s seen) and `seconds` (first request to last row).
"""

import json
import sys
import time

import requests


def main(argv) -> int:
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    base, token, list_id = argv[0].rstrip("/"), argv[1], argv[2]
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    url = f"{base}/api/1/list/{list_id}"
    rows = pages = retries = offset = 0
    started = time.perf_counter()
    while True:
        resp = session.get(url, params={"count": 1000, "offset": offset})
        if resp.status_code == 429:
            retries += 1
            time.sleep(float(resp.headers.get("Retry-After", "1")))
            continue
        resp.raise_for_status()
        data = resp.json()["data"]
        rows += len(data)
        pages += 1
        offset += len(data)
        if len(data) < 1000:
            break
    seconds = time.perf_counter() - started
    print(json.dumps({"rows": rows, "pages": pages, "retries": retries, "seconds": round(seconds, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
