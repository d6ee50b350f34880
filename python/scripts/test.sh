#!/usr/bin/env bash
# Builds the `connector` wheel with maturin and runs the pytest suite against it in a FRESH
# virtualenv, as a user would install it. Run from anywhere; `cargo xtask ci` calls it.
#
#   python/scripts/test.sh [pytest args...]
#
# Environment:
#   WHEEL_PROFILE   cargo profile for the wheel (default: wheel; `dev` builds faster, runs slower)
#   CARGO_TARGET_DIR is honoured (maturin passes it to cargo).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

profile="${WHEEL_PROFILE:-wheel}"
venv="$root/target/py-venv"          # created by scripts/setup.sh
test_venv="$root/target/py-test-venv"
wheels="$root/target/wheels"

if [ ! -x "$venv/bin/python" ]; then
  echo "python/test.sh: $venv missing; run scripts/setup.sh first" >&2
  exit 1
fi
if ! "$venv/bin/python" -c "import maturin" 2>/dev/null && [ ! -x "$venv/bin/maturin" ]; then
  echo "python/test.sh: installing maturin into $venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "maturin>=1.5,<2"
fi

# The code must run on every CPython the abi3 wheel claims (>= 3.9); only 3.11 is installed here,
# so vermin checks the syntax and library calls against 3.9 statically.
if ! "$venv/bin/python" -c "import vermin" 2>/dev/null; then
  "$venv/bin/pip" install -q --disable-pip-version-check "vermin==1.9.2"
fi
"$venv/bin/vermin" --no-tips --eval-annotations --violations -t=3.9- --quiet \
  python/python/connector python/tests
echo "python/test.sh: the package's Python code runs on CPython >= 3.9 (vermin)"

# Built as users install it: an sdist, unpacked, then `pip wheel` on it (maturin via PEP 517 in an
# isolated build environment, no manual steps). The unpacked sdist sits at a fixed path and
# shares this workspace's target directory, so repeated runs reuse compiled crates.
echo "python/test.sh: building the sdist and a wheel from it with pip (profile $profile)"
started=$(date +%s)
sdists="$root/target/sdist"
rm -rf "$sdists" && mkdir -p "$sdists/unpacked"
"$venv/bin/maturin" sdist --manifest-path python/Cargo.toml --out "$sdists" >/dev/null 2>&1 \
  || "$venv/bin/maturin" sdist --manifest-path python/Cargo.toml --out "$sdists"
sdist=$(ls "$sdists"/connector-*.tar.gz | head -n 1)
tar -xzf "$sdist" -C "$sdists/unpacked"
rm -f "$wheels"/connector-*.whl
CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}" MATURIN_PEP517_ARGS="--profile $profile" \
  "$venv/bin/pip" wheel -q --disable-pip-version-check --no-deps -w "$wheels" \
  "$sdists"/unpacked/connector-*/
wheel=$(ls "$wheels"/connector-*.whl | head -n 1)
case "$(basename "$wheel")" in
  *-cp39-abi3-*) ;;
  *) echo "python/test.sh: $(basename "$wheel") is not an abi3 wheel for CPython >= 3.9" >&2; exit 1 ;;
esac
echo "python/test.sh: built $(basename "$wheel") from $(basename "$sdist") in $(( $(date +%s) - started ))s"

echo "python/test.sh: fresh virtualenv $test_venv"
rm -rf "$test_venv"
"$venv/bin/python" -m venv "$test_venv"
"$test_venv/bin/pip" install -q --disable-pip-version-check "$wheel" \
  -r python/tests/requirements.txt

cd python
set +e
"$test_venv/bin/python" -m pytest tests -p no:cacheprovider "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "python/test.sh: pytest collected no tests" >&2
  exit 1
fi
exit "$status"
