"""Act-On as a Python DB-API 2.0 (PEP 249) module, like CData's ``cdata.acton``.

Example::

    import connector.acton as mod
    conn = mod.connect("AuthScheme=OAuthPassword;User=me@example.com;Password=...;OAuthClientId=...;OAuthClientSecret=...")
    cur = conn.execute("SELECT * FROM List_Customers LIMIT ?", [10])
    for row in cur:
        print(row)

``connect()`` validates the connection string and raises ConnectionStringError listing every
problem; it does not touch the network. The first SELECT or DML authenticates, so
``EXEC GetOAuthAuthorizationURL`` / ``EXEC GetOAuthAccessToken`` work on a connection that
has no token yet. Writes are applied at once: ``commit()`` and ``rollback()`` do nothing.
"""

from __future__ import annotations

from ._dbapi import *  # noqa: F401,F403
from ._dbapi import Connection, __all__ as _shared, connect_to


def connect(connection_string: str) -> Connection:
    """Opens a connection to Act-On with a CData-style connection string."""
    return connect_to("acton", connection_string)


__all__ = ["connect", *_shared]
