"""Act-On and HubSpot HubDB for Python (PEP 249), on the connector's Rust engine.

Use one module per source, as with CData's ``cdata.acton`` / ``cdata.hubdb``::

    import connector.hubdb as mod
    conn = mod.connect("AuthScheme=PrivateApp;PrivateAppToken=...")

``connector.testing`` starts local emulators of both services for tests and demos.
"""

from __future__ import annotations

from . import exceptions
from ._native import VERSION as __version__

__all__ = ["exceptions", "__version__"]
