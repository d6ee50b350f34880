#!/usr/bin/env bash
# Installs what the test suite needs beyond a Rust toolchain. Idempotent: skips what is present.
# - Debian packages: chromium + chromium-driver (the desktop OAuth flow runs in a real headless browser).
# - nodejs + npm (the benchmarks run the official HubSpot Node SDK).
# - A Python virtualenv under target/py-venv with the official HubSpot SDKs, hubspot-api-client and the
#   date-versioned hubspot-sdk (the emulator is checked against both) and maturin (python/scripts/test.sh builds the wheel with it).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
# Chromium drives the desktop OAuth flow end to end (added with the auth-core browser test).
if [ -d auth-core ]; then
  command -v chromium >/dev/null 2>&1 || need_apt+=(chromium chromium-driver)
fi
# Node.js + npm run the official HubSpot Node SDK in the benchmarks (cargo xtask bench).
if [ -d bench ]; then
  command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
  command -v npm >/dev/null 2>&1 || need_apt+=(npm)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing ${need_apt[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "setup: please install ${need_apt[*]} (needs root / apt-get)" >&2
  fi
fi

venv=target/py-venv
if [ ! -x "$venv/bin/python" ]; then
  echo "setup: creating $venv"
  python3 -m venv "$venv"
fi
# hubspot_sdk is the newer official SDK (PyPI hubspot-sdk); a venv made before it was added lacks it,
# and one made before the gateway lacks the ADBC Flight SQL driver.
if ! "$venv/bin/python" -c "import hubspot, hubspot_sdk, maturin, vermin, adbc_driver_flightsql, adbc_driver_manager, duckdb" 2>/dev/null; then
  echo "setup: installing Python test packages into $venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r scripts/requirements-test.txt
fi
echo "setup: ok"
