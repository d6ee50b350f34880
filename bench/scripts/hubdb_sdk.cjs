// HubDB scans through HubSpot's official Node SDK (`@hubspot/api-client`), for the benchmarks.
//
// Usage: node hubdb_sdk.cjs BASE_URL TOKEN TABLE [FILTER]
// (with NODE_PATH pointing at the node_modules the orchestrator installed the SDK into)
//
// Without FILTER: `cms.hubdb.rowsApi.getTableRows` with `limit` 1000 following `paging.next.after`,
// through a client configured the way the SDK's README suggests for rate limits: `basePath`,
// `numberOfApiCallRetries` (its retry decorator waits 10 s × attempt on a TEN_SECONDLY_ROLLING
// 429) and its Bottleneck limiter at the SDK's own default options (9 per second, 6 at once).
// With FILTER (`attendees__gte=495`): the SDK's generic `apiRequest`, because `getTableRows` has
// no parameter for HubDB's column filters.
// Prints one JSON line: rows, pages and `seconds` from the first request to the last row.
'use strict';

const hubspot = require('@hubspot/api-client');

async function main(argv) {
  if (argv.length < 3) {
    console.error('usage: hubdb_sdk.cjs BASE_URL TOKEN TABLE [FILTER]');
    return 2;
  }
  const [base, token, table, filter] = argv;
  const client = new hubspot.Client({
    accessToken: token,
    basePath: base.replace(/\/$/, ''),
    numberOfApiCallRetries: 6,
    // The SDK's DEFAULT_LIMITER_OPTIONS (lib/src/configuration/constants.js).
    limiterOptions: { minTime: 1000 / 9, maxConcurrent: 6, id: 'hubspot-client-limiter' },
  });
  let rows = 0;
  let pages = 0;
  let after;
  const started = process.hrtime.bigint();
  for (;;) {
    let body;
    if (filter === undefined) {
      body = await client.cms.hubdb.rowsApi.getTableRows(table, undefined, after, 1000);
    } else {
      const qs = Object.fromEntries(new URLSearchParams(filter));
      qs.limit = '1000';
      if (after !== undefined) qs.after = after;
      const resp = await client.apiRequest({ method: 'GET', path: `/cms/v3/hubdb/tables/${table}/rows`, qs });
      if (!resp.ok) throw new Error(`HTTP ${resp.status}`);
      body = await resp.json();
    }
    rows += body.results.length;
    pages += 1;
    after = body.paging && body.paging.next ? body.paging.next.after : undefined;
    if (after === undefined) break;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(JSON.stringify({ rows, pages, seconds: Math.round(seconds * 1000) / 1000 }));
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(`hubdb_sdk.cjs: ${err && err.stack ? err.stack : err}`);
    process.exit(1);
  },
);
