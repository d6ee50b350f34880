"""PEP 249 exceptions shared by ``connector.acton`` and ``connector.hubdb``.

The hierarchy (PEP 249 plus three subclasses of ours)::

    Warning
    Error
    ├── InterfaceError
    │   └── ConnectionStringError   bad syntax, unknown property, invalid value, missing property
    └── DatabaseError
        ├── DataError               a value the column or the service refuses
        ├── OperationalError        network, timeouts, HTTP 5xx
        │   ├── AuthenticationError refused/expired/revoked tokens, OAuth failures, HTTP 401/403
        │   └── RateLimitError      HTTP 429 after retries, the OAuth grant limits
        ├── IntegrityError          some rows of a write refused (the others were applied)
        ├── InternalError           a bug in the connector
        ├── ProgrammingError        SQL syntax, unknown table/column/procedure, wrong ? count
        └── NotSupportedError       statements or features the engine does not run

Messages are the connector's own: they name the table, column or property involved and
never contain a secret.
"""

from __future__ import annotations

import builtins

__all__ = [
    "Warning",
    "Error",
    "InterfaceError",
    "ConnectionStringError",
    "DatabaseError",
    "DataError",
    "OperationalError",
    "AuthenticationError",
    "RateLimitError",
    "IntegrityError",
    "InternalError",
    "ProgrammingError",
    "NotSupportedError",
]


class Warning(builtins.Exception):  # noqa: A001 - the name PEP 249 requires
    """Important warnings (PEP 249). Not raised by this connector today."""


class Error(builtins.Exception):
    """Base class of every error the connector raises (PEP 249)."""


class InterfaceError(Error):
    """A problem with the interface rather than the service: a closed connection or cursor,
    a cursor shared between threads, or a bad connection string (see ConnectionStringError)."""


class ConnectionStringError(InterfaceError):
    """The connection string does not parse, or names unknown properties, invalid values or
    misses required ones. The message lists every problem."""


class DatabaseError(Error):
    """An error reported by (or about) the service (PEP 249)."""


class DataError(DatabaseError):
    """A value the column or the service refuses (bad type, out of range, invalid value)."""


class OperationalError(DatabaseError):
    """The service could not be reached or answered with a server error, or a timeout."""


class AuthenticationError(OperationalError):
    """Authentication or authorization failed: a refused, expired or revoked token, a
    refused OAuth grant, missing scopes, HTTP 401/403."""


class RateLimitError(OperationalError):
    """The service's rate limit was still exceeded after the connector's retries (HTTP 429),
    or an OAuth grant limit was reached."""


class IntegrityError(DatabaseError):
    """Some rows of a write were refused. There are no transactions: the other rows were
    applied, and the message says how many."""


class InternalError(DatabaseError):
    """A bug in the connector; please report it with the message."""


class ProgrammingError(DatabaseError):
    """A mistake in the statement: SQL syntax, an unknown table, column, procedure or input,
    the wrong number of ``?`` parameters, a write to a read-only table."""


class NotSupportedError(DatabaseError):
    """A statement or feature the connector does not support."""
