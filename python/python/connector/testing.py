"""Local emulators of HubSpot (OAuth + HubDB) and Act-On for tests and demos.

Both run inside the extension on loopback ports (no subprocess, no network)::

    from connector.testing import Emulator
    import connector.hubdb as hubdb

    with Emulator(hubdb_rows=100) as emu:
        conn = hubdb.connect(emu.hubdb_private_app())
        print(conn.execute("SELECT COUNT(*) FROM events").fetchone())

They serve made-up data (HubDB table ``events`` and its draft ``events_Draft``, the Owners view;
Act-On Messages, Images, Programs, lists such as ``List_Customers``) and made-up credentials,
which ``info`` holds. With ``auto_approve=True`` the authorization pages redirect straight to
the callback URL with a code, so the OAuth web flow runs without a browser (see ``browse``).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any, Optional

from . import _native

__all__ = ["Emulator", "browse", "quote"]


def quote(value: str) -> str:
    """A connection-string value, single-quoted when it needs to be."""
    if value and not any(c in value for c in ";'\"= \t{}") and value == value.strip():
        return value
    return "'" + value.replace("'", "''") + "'"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[override]
        return None


def browse(url: str, timeout: float = 10.0) -> str:
    """Plays the user's browser on an auto-approving authorization page: GETs ``url`` without
    following the redirect and returns the redirect target (the callback URL with the code)."""
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        response = opener.open(url, timeout=timeout)
    except urllib.error.HTTPError as redirect:
        location = redirect.headers.get("Location")
        if redirect.code in (301, 302, 303, 307, 308) and location:
            return location
        raise
    raise RuntimeError(
        f"the authorization page answered HTTP {response.status} instead of a redirect; "
        "start the Emulator with auto_approve=True"
    )


class Emulator:
    """Both emulators, running until ``stop()`` (or the end of a ``with`` block).

    ``hubdb_rows`` / ``acton_records``: size of the generated HubDB ``events`` table and Act-On
    ``Customers`` list (2,500 each by default). ``latency_ms`` delays every API answer;
    ``token_ttl_s`` sets the access-token lifetime.
    """

    def __init__(
        self,
        auto_approve: bool = True,
        hubdb_rows: Optional[int] = None,
        acton_records: Optional[int] = None,
        seed: Optional[int] = None,
        latency_ms: Optional[int] = None,
        token_ttl_s: Optional[int] = None,
    ) -> None:
        self._native = _native.Emulator(
            auto_approve, hubdb_rows, acton_records, seed, latency_ms, token_ttl_s
        )
        #: The connection details (``hubspot`` and ``acton`` dicts), as ``connector emulator`` prints.
        self.info: dict[str, dict[str, str]] = json.loads(self._native.info_json)

    # -- connection strings ---------------------------------------------------------------

    def hubdb_private_app(self) -> str:
        """HubDB with the seeded private app token (AuthScheme=PrivateApp)."""
        hs = self.info["hubspot"]
        return (
            f"AuthScheme=PrivateApp;PrivateAppToken={quote(hs['private_app_token'])};"
            f"APIBaseURL={hs['base_url']}"
        )

    def hubdb_oauth_app(self, extra: str = "") -> str:
        """HubDB with the seeded OAuth app and no token: for EXEC GetOAuthAuthorizationURL /
        GetOAuthAccessToken / RefreshOAuthAccessToken (the web flow)."""
        hs = self.info["hubspot"]
        return (
            f"AuthScheme=OAuth;OAuthClientId={quote(hs['client_id'])};"
            f"OAuthClientSecret={quote(hs['client_secret'])};APIBaseURL={hs['base_url']};"
            f"OAuthAuthorizationURL={hs['authorize_url']};CallbackURL={hs['redirect_uri']}"
            + (";" + extra if extra else "")
        )

    def acton_password(self, settings_location: str = "memory://connector-testing-acton") -> str:
        """Act-On with the password grant (AuthScheme=OAuthPassword), tokens kept in
        ``settings_location``."""
        ao = self.info["acton"]
        return (
            f"AuthScheme=OAuthPassword;InitiateOAuth=GETANDREFRESH;User={quote(ao['user'])};"
            f"Password={quote(ao['password'])};OAuthClientId={quote(ao['client_id'])};"
            f"OAuthClientSecret={quote(ao['client_secret'])};APIBaseURL={ao['base_url']};"
            f"OAuthSettingsLocation={settings_location}"
        )

    def acton_oauth_app(self, extra: str = "") -> str:
        """Act-On with the seeded OAuth app and no token (AuthScheme=OAuth): for the web flow."""
        ao = self.info["acton"]
        return (
            f"AuthScheme=OAuth;OAuthClientId={quote(ao['client_id'])};"
            f"OAuthClientSecret={quote(ao['client_secret'])};APIBaseURL={ao['base_url']};"
            f"OAuthAuthorizationURL={ao['authorize_url']};CallbackURL={ao['redirect_uri']}"
            + (";" + extra if extra else "")
        )

    def with_token(self, source: str, access_token: str) -> str:
        """``InitiateOAuth=OFF`` with an access token (from GetOAuthAccessToken) for ``acton``
        or ``hubdb``."""
        service = self._service(source)
        return (
            f"InitiateOAuth=OFF;OAuthAccessToken={quote(access_token)};"
            f"APIBaseURL={self.info[service]['base_url']}"
        )

    # -- inspection and faults -------------------------------------------------------------

    def stats(self, source: str) -> dict[str, Any]:
        """Counters of one emulator (``hubdb``/``hubspot`` or ``acton``): api_requests,
        token_grants, rate_limited, ..."""
        return json.loads(self._native.stats_json(self._service(source)))

    def requests(self, source: str) -> list[dict[str, Any]]:
        """The request log of one emulator, oldest first (method, path, query, status)."""
        return json.loads(self._native.requests_json(self._service(source)))

    def inject_status(self, source: str, status: int, count: int = 1, target: str = "api") -> None:
        """Makes the next ``count`` requests to ``target`` (``api``, ``token`` or ``any``)
        answer HTTP ``status``."""
        self._native.inject_status(self._service(source), status, count, target)

    def inject(self, source: str, **fault: Any) -> None:
        """Queues a fault as ``POST /_emulator/faults`` takes it, e.g.
        ``inject("acton", kind="delay", ms=500, count=1, target="token")``."""
        self._native.inject_json(self._service(source), json.dumps(fault))

    # -- lifetime ---------------------------------------------------------------------------

    def stop(self) -> None:
        """Stops both emulators (idempotent)."""
        self._native.stop()

    def __enter__(self) -> "Emulator":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "stopped" if self._native.stopped else "running"
        return (
            f"<connector.testing.Emulator {state} hubspot={self.info['hubspot']['base_url']} "
            f"acton={self.info['acton']['base_url']}>"
        )

    @staticmethod
    def _service(source: str) -> str:
        names = {"hubdb": "hubspot", "hubspot": "hubspot", "acton": "acton"}
        try:
            return names[source.lower()]
        except KeyError:
            raise ValueError(f"unknown source {source!r}: use 'hubdb' or 'acton'") from None
