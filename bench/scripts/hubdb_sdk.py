#!/usr/bin/env python3
"""HubDB scans through HubSpot's official Python SDK (`hubspot-api-client`), for the benchmarks.

Usage: hubdb_sdk.py BASE_URL TOKEN TABLE [FILTER]

Without FILTER: a full scan the way the SDK documents it, `rows_api.get_table_rows` with `limit` at
HubDB's maximum (1000) following `paging.next.after`, every page deserialized into the SDK's models.
429s are retried by the urllib3 `Retry` the SDK accepts (`HubSpot(retry=...)`).
With FILTER (a query string such as `attendees__gte=495`): the SDK's generic `api_request`, because
`get_table_rows` has no parameter for HubDB's column filters.

Prints one JSON line on stdout: rows received, pages, and `seconds` from the first request to
the last row (interpreter start and imports excluded; the caller times the whole process too).
"""

import json
import sys
import time
from urllib.parse import parse_qsl

from hubspot import HubSpot
from urllib3.util.retry import Retry


def main(argv) -> int:
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    base, token, table = argv[0].rstrip("/"), argv[1], argv[2]
    filt = argv[3] if len(argv) > 3 else None
    # HubSpot sends no Retry-After on its 10-second limit, so the backoff decides the wait:
    # 1, 2, 4, 8 s... (urllib3 caps it at 120 s). GET is retried by default.
    retry = Retry(total=8, status_forcelist=(429,), backoff_factor=1.0, respect_retry_after_header=True)
    # `host` is the generated Configuration's base; `base_url` is what `api_request` uses.
    client = HubSpot(access_token=token, host=base, base_url=base, retry=retry)
    rows = pages = 0
    after = None
    started = time.perf_counter()
    while True:
        if filt is None:
            kwargs = {"limit": 1000}
            if after is not None:
                kwargs["after"] = after
            page = client.cms.hubdb.rows_api.get_table_rows(table, **kwargs)
            rows += len(page.results)
            nxt = page.paging.next if page.paging is not None else None
            after = nxt.after if nxt is not None else None
        else:
            qs = dict(parse_qsl(filt))
            qs["limit"] = 1000
            if after is not None:
                qs["after"] = after
            resp = client.api_request({"method": "GET", "path": f"/cms/v3/hubdb/tables/{table}/rows", "qs": qs})
            resp.raise_for_status()
            body = resp.json()
            rows += len(body["results"])
            after = body.get("paging", {}).get("next", {}).get("after")
        pages += 1
        if after is None:
            break
    seconds = time.perf_counter() - started
    print(json.dumps({"rows": rows, "pages": pages, "seconds": round(seconds, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
