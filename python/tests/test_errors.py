"""Errors map to the PEP 249 classes with the connector's own messages."""

from __future__ import annotations

import pytest

import connector.acton as acton
import connector.hubdb as hubdb
from connector.testing import Emulator


def test_connection_string_errors() -> None:
    with pytest.raises(hubdb.ConnectionStringError) as e:
        hubdb.connect("AuthScheme=PrivateApp;PrivateAppTokn=x")
    assert "did you mean PrivateAppToken" in str(e.value)
    assert isinstance(e.value, hubdb.InterfaceError)
    with pytest.raises(acton.ConnectionStringError) as e:
        acton.connect("InitiateOAuth=SOMETIMES")
    assert "OFF, REFRESH, GETANDREFRESH" in str(e.value)
    with pytest.raises(hubdb.ConnectionStringError):
        hubdb.connect("Scope='unterminated")
    with pytest.raises(hubdb.InterfaceError):
        hubdb.connect(42)  # type: ignore[arg-type]


def test_sql_errors_are_programming_errors(hub) -> None:
    with pytest.raises(hubdb.ProgrammingError) as e:
        hub.execute("SELECT * FROM evnts")
    assert "did you mean events" in str(e.value)
    with pytest.raises(hubdb.ProgrammingError) as e:
        hub.execute("SELECT titel FROM events")
    assert "title" in str(e.value)
    with pytest.raises(hubdb.ProgrammingError, match="syntax error"):
        hub.execute("SELEC * FROM events")
    with pytest.raises(hubdb.ProgrammingError, match="1 `\\?` parameter"):
        hub.execute("SELECT * FROM events WHERE Id = ?", [1, 2])
    with pytest.raises(hubdb.ProgrammingError, match="not found"):
        hub.execute("EXEC NoSuchProcedure")
    with pytest.raises(hubdb.ProgrammingError, match="type object"):
        hub.execute("SELECT * FROM events WHERE title = ?", [object()])
    with pytest.raises(hubdb.ProgrammingError):
        hub.execute("SELECT * FROM events WHERE title = ?", "Berlin")


def test_not_supported(hub) -> None:
    with pytest.raises(hubdb.NotSupportedError):
        hub.execute("SELECT * FROM events WHERE title = ?", {"title": "x"})
    with pytest.raises(hubdb.NotSupportedError):
        hub.execute("CREATE TABLE t (x INT)")


def test_acton_view_needing_a_filter(act) -> None:
    with pytest.raises(acton.ProgrammingError) as e:
        act.execute("SELECT * FROM DrilldownReports").fetchall()
    assert "filter" in str(e.value)


def test_interface_errors(emu: Emulator) -> None:
    conn = hubdb.connect(emu.hubdb_private_app())
    cur = conn.cursor()
    with pytest.raises(hubdb.ProgrammingError, match="no result set"):
        cur.fetchone()
    cur.execute("INSERT INTO events_Draft (title) VALUES ('pytest interface')")
    with pytest.raises(hubdb.ProgrammingError, match="no result set"):
        cur.fetchall()
    cur.execute("DELETE FROM events_Draft WHERE title = 'pytest interface'")
    conn.close()
    # PEP 249: every operation on a closed connection raises, close() included.
    with pytest.raises(hubdb.InterfaceError) as second:
        conn.close()
    assert str(second.value) == "the connection is already closed"
    with pytest.raises(hubdb.InterfaceError, match="closed"):
        cur.execute("SELECT 1")
    with pytest.raises(hubdb.InterfaceError, match="closed"):
        conn.cursor()
    with pytest.raises(hubdb.InterfaceError):
        conn.commit()


def test_authentication_errors(emu: Emulator) -> None:
    base = emu.info["hubspot"]["base_url"]
    conn = hubdb.connect(f"AuthScheme=PrivateApp;PrivateAppToken=pat-wrong;APIBaseURL={base}")
    with pytest.raises(hubdb.AuthenticationError) as e:
        conn.execute("SELECT * FROM events")
    assert isinstance(e.value, hubdb.OperationalError)
    assert "refused" in str(e.value)
    ao = emu.info["acton"]
    bad = acton.connect(
        f"AuthScheme=OAuthPassword;User={ao['user']};Password=wrong;"
        f"OAuthClientId={ao['client_id']};OAuthClientSecret='{ao['client_secret']}';"
        f"APIBaseURL={ao['base_url']};OAuthSettingsLocation=memory://pytest-bad-password"
    )
    with pytest.raises(acton.AuthenticationError):
        bad.execute("SELECT * FROM Messages")


def test_rate_limit_error() -> None:
    with Emulator(acton_records=10) as fresh:
        fresh.inject_status("acton", 429, count=5, target="token")
        conn = acton.connect(fresh.acton_password("memory://pytest-rate-limited"))
        with pytest.raises(acton.RateLimitError) as e:
            conn.execute("SELECT * FROM Messages")
        assert isinstance(e.value, acton.OperationalError)
        assert "rate limit" in str(e.value)


def test_server_errors_are_operational() -> None:
    with Emulator(hubdb_rows=10) as fresh:
        conn = hubdb.connect(fresh.hubdb_private_app() + ";Timeout=2")
        fresh.inject_status("hubdb", 503, count=50)
        with pytest.raises(hubdb.OperationalError):
            conn.execute("SELECT * FROM events").fetchall()
