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

echo "python/test.sh: building the wheel (profile $profile)"
started=$(date +%s)
rm -f "$wheels"/connector-*.whl
"$venv/bin/maturin" build --manifest-path python/Cargo.toml --profile "$profile" \
  --interpreter "$venv/bin/python" --out "$wheels" --quiet
wheel=$(ls "$wheels"/connector-*.whl | head -n 1)
echo "python/test.sh: built $(basename "$wheel") in $(( $(date +%s) - started ))s"

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
