"""Fixtures: one pair of emulators for the session, connections to each source."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest

# Token files and the settings key must never land in the real home directory.
_home = tempfile.mkdtemp(prefix="connector-pytest-")
os.environ["CONNECTOR_KEY_FILE"] = os.path.join(_home, "settings.key")
os.environ["XDG_CONFIG_HOME"] = os.path.join(_home, "config")
os.environ["HOME"] = _home

import connector.acton as acton  # noqa: E402
import connector.hubdb as hubdb  # noqa: E402
from connector.testing import Emulator  # noqa: E402

HUBDB_ROWS = 300
ACTON_RECORDS = 120


@pytest.fixture(scope="session")
def emu() -> Iterator[Emulator]:
    with Emulator(auto_approve=True, hubdb_rows=HUBDB_ROWS, acton_records=ACTON_RECORDS) as e:
        yield e


@pytest.fixture()
def hub(emu: Emulator) -> Iterator[hubdb.Connection]:
    with hubdb.connect(emu.hubdb_private_app()) as conn:
        yield conn


@pytest.fixture()
def act(emu: Emulator) -> Iterator[acton.Connection]:
    with acton.connect(emu.acton_password()) as conn:
        yield conn


def rows_as_dicts(cursor) -> list[dict]:
    """The remaining rows of a cursor as dicts keyed by column name."""
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def pytest_terminal_summary(terminalreporter) -> None:
    """One line with the DB-API compliance suite's result (test_dbapi20.py), and its skips."""
    outcomes: dict[str, list] = {}
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            if "test_dbapi20.py" in getattr(report, "nodeid", "") and report.when in ("call", "setup"):
                if outcome == "passed" and report.when != "call":
                    continue
                outcomes.setdefault(outcome, []).append(report)
    total = sum(len(v) for v in outcomes.values())
    if not total:
        return
    passed = len(outcomes.get("passed", []))
    skipped = outcomes.get("skipped", [])
    others = len(outcomes.get("failed", [])) + len(outcomes.get("error", []))
    terminalreporter.write_line(
        f"dbapi20 compliance suite (connector.hubdb): {passed} of {total} tests passed, "
        f"{len(skipped)} skipped, {others} not passing"
    )
    for report in skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        terminalreporter.write_line(f"  skipped {report.nodeid.split('::')[-1]}: {reason}")
