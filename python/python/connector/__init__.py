"""Act-On, HubSpot HubDB and every other registered source for Python (PEP 249), on the
connector's Rust engine.

Use one module per source, as with CData's ``cdata.acton`` / ``cdata.hubdb``::

    import connector.hubdb as mod
    conn = mod.connect("AuthScheme=PrivateApp;PrivateAppToken=...")

The modules (``connector.hubdb``, ``connector.acton``, ``connector.files``, ...) are made here
from the registered sources (``connector.sources()``), so a source added on the Rust side needs
no Python file. ``connector.testing`` starts local emulators for tests and demos.
"""

from __future__ import annotations

import atexit
import sys
import types

from . import _dbapi, exceptions
from ._native import VERSION as __version__
from ._native import sources as _native_sources
from ._native import wait_for_token_refreshes as _wait_for_token_refreshes

# A token refresh runs in its own task: KeyboardInterrupt stops the statement, not the refresh.
# Let a refresh that is already out finish and save the rotated tokens before the process ends
# (the longest single token request is 60 s).
atexit.register(_wait_for_token_refreshes, 65.0)

_MODULE_DOC = """{display} as a Python DB-API 2.0 (PEP 249) module, like CData's ``cdata.<source>``.

{description}

Example::

    import connector.{name} as mod
    conn = mod.connect("...")
    cur = conn.execute("SELECT * FROM sys_tables")
    for row in cur:
        print(row)

``connect()`` validates the connection string and raises ConnectionStringError listing every
problem; it does not touch the network. The first SELECT or DML authenticates, so the OAuth
procedures (``EXEC GetOAuthAuthorizationURL`` / ``EXEC GetOAuthAccessToken``) work on a
connection that has no token yet. Writes are applied at once: ``commit()`` and ``rollback()``
do nothing.
"""


def _source_module(name: str, display: str, description: str) -> types.ModuleType:
    """The DB-API module ``connector.<name>``: the shared PEP 249 names and its ``connect``."""
    module = types.ModuleType(
        f"{__name__}.{name}", _MODULE_DOC.format(name=name, display=display, description=description)
    )
    for shared in _dbapi.__all__:
        setattr(module, shared, getattr(_dbapi, shared))

    def connect(connection_string: str) -> _dbapi.Connection:
        return _dbapi.connect_to(name, connection_string)

    connect.__doc__ = f"Opens a connection to {display} with a CData-style connection string."
    connect.__module__ = module.__name__
    connect.__qualname__ = "connect"
    module.connect = connect  # type: ignore[attr-defined]
    module.__all__ = ["connect", *_dbapi.__all__]  # type: ignore[attr-defined]
    return module


def sources() -> list[str]:
    """The names of the registered sources, each a module ``connector.<name>``."""
    return [name for name, _, _ in _native_sources()]


for _name, _display, _description in _native_sources():
    _module = _source_module(_name, _display, _description)
    sys.modules[_module.__name__] = _module
    globals()[_name] = _module

__all__ = ["exceptions", "sources", "__version__", *sources()]
