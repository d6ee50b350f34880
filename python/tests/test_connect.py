"""connect() with each auth scheme, the OAuth web flow from Python, and secrets."""

from __future__ import annotations

import pytest

import connector.acton as acton
import connector.hubdb as hubdb
from connector.testing import Emulator, browse

from conftest import HUBDB_ROWS, rows_as_dicts


def test_hubdb_private_app(emu: Emulator) -> None:
    with hubdb.connect(emu.hubdb_private_app()) as conn:
        assert conn.source == "hubdb"
        (count,) = conn.execute("SELECT COUNT(*) FROM events").fetchone()
        assert count == HUBDB_ROWS
    assert conn.closed


def test_acton_password_grant(emu: Emulator) -> None:
    before = emu.stats("acton")["token_grants"]["password"]
    with acton.connect(emu.acton_password("memory://pytest-password")) as conn:
        rows = conn.execute("SELECT * FROM List_Customers LIMIT 3").fetchall()
        assert len(rows) == 3
    assert emu.stats("acton")["token_grants"]["password"] == before + 1


def _web_flow(emu: Emulator, mod, app: str) -> dict:
    """EXEC GetOAuthAuthorizationURL → the browser (urllib) → EXEC GetOAuthAccessToken."""
    conn = mod.connect(app)
    cur = conn.execute("EXEC GetOAuthAuthorizationURL")
    assert cur.description[0][0] == "URL"
    (url,) = cur.fetchone()[:1]
    callback = browse(url)
    assert "code=" in callback
    tokens = rows_as_dicts(
        conn.execute("EXEC GetOAuthAccessToken AuthMode='WEB', Verifier=?", [callback])
    )[0]
    assert tokens["OAuthAccessToken"]
    conn.close()
    return tokens


def test_hubdb_web_flow_through_exec(emu: Emulator) -> None:
    tokens = _web_flow(emu, hubdb, emu.hubdb_oauth_app())
    with hubdb.connect(emu.with_token("hubdb", tokens["OAuthAccessToken"])) as conn:
        cur = conn.execute("SELECT title FROM events WHERE attendees > ? LIMIT 2", [10])
        assert len(cur.fetchall()) == 2
    # RefreshOAuthAccessToken gives a new access token that works too.
    with hubdb.connect(emu.hubdb_oauth_app()) as app:
        refreshed = rows_as_dicts(
            app.execute(
                "EXEC RefreshOAuthAccessToken OAuthRefreshToken=?", [tokens["OAuthRefreshToken"]]
            )
        )[0]
    assert refreshed["OAuthAccessToken"] != tokens["OAuthAccessToken"]
    with hubdb.connect(emu.with_token("hubdb", refreshed["OAuthAccessToken"])) as conn:
        assert conn.execute("SELECT COUNT(*) FROM events").fetchone() == (HUBDB_ROWS,)


def test_acton_web_flow_through_exec(emu: Emulator) -> None:
    tokens = _web_flow(emu, acton, emu.acton_oauth_app())
    with acton.connect(emu.with_token("acton", tokens["OAuthAccessToken"])) as conn:
        assert len(conn.execute("SELECT * FROM Messages LIMIT 2").fetchall()) == 2


def test_exec_needs_no_token_but_queries_do(emu: Emulator) -> None:
    # A connection with only the app's credentials: procedures work, data needs a token.
    conn = hubdb.connect(emu.hubdb_oauth_app("InitiateOAuth=OFF"))
    assert conn.execute("EXEC GetOAuthAuthorizationURL").fetchone()[0].startswith("http")
    with pytest.raises(hubdb.Error):
        conn.execute("SELECT * FROM events")


CANARY = "pat-canary-0123456789-do-not-print"


def test_secrets_never_in_repr_or_messages(emu: Emulator) -> None:
    base = emu.info["hubspot"]["base_url"]
    conn = hubdb.connect(f"AuthScheme=PrivateApp;PrivateAppToken={CANARY};APIBaseURL={base}")
    cur = conn.cursor()
    assert CANARY not in repr(conn) and CANARY not in str(conn)
    assert CANARY not in repr(cur)
    with pytest.raises(hubdb.AuthenticationError) as refused:
        cur.execute("SELECT * FROM events")
    assert CANARY not in str(refused.value) and CANARY not in repr(refused.value)
    # Validation errors mask sensitive values too.
    with pytest.raises(hubdb.ConnectionStringError) as invalid:
        hubdb.connect(f"PrivateAppToken={CANARY};Timeout=soon")
    assert CANARY not in str(invalid.value)
    with pytest.raises(hubdb.ConnectionStringError) as syntax:
        hubdb.connect(f"PrivateAppToken={CANARY};Scope='unterminated")
    assert CANARY not in str(syntax.value)


@pytest.mark.parametrize("name", ["hubdb", "acton"])
def test_oauth_refresh_token_into_settings_file(emu: Emulator, tmp_path, name: str) -> None:
    """AuthScheme=OAuth with InitiateOAuth=REFRESH: a refresh token from the web flow is
    exchanged once, stored encrypted in OAuthSettingsLocation, and a later connection with
    only the settings file uses the stored token without another grant."""
    mod = hubdb if name == "hubdb" else acton
    app = emu.hubdb_oauth_app() if name == "hubdb" else emu.acton_oauth_app()
    table = "events" if name == "hubdb" else "Messages"
    tokens = _web_flow(emu, mod, app)
    settings = tmp_path / f"{name}-oauth.dat"
    before = emu.stats(name)["token_grants"]["refresh_token"]
    first = (
        f"{app};InitiateOAuth=REFRESH;OAuthSettingsLocation='{settings}';"
        f"OAuthRefreshToken={tokens['OAuthRefreshToken']}"
    )
    with mod.connect(first) as conn:
        (count,) = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
        assert count > 0
    assert emu.stats(name)["token_grants"]["refresh_token"] == before + 1
    assert settings.exists()
    assert tokens["OAuthRefreshToken"].encode() not in settings.read_bytes()
    with mod.connect(f"{app};InitiateOAuth=REFRESH;OAuthSettingsLocation='{settings}'") as conn:
        assert conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone() == (count,)
    assert emu.stats(name)["token_grants"]["refresh_token"] == before + 1
