"""SQLAlchemy 2.x dialects for the connector's sources: ``hubdb://`` and ``acton://``.

The whole CData-style connection string goes after ``?``, as with CData's dialects::

    from sqlalchemy import create_engine
    engine = create_engine("hubdb:///?AuthScheme=PrivateApp;PrivateAppToken=pat-...")

``hubdb_2://`` and ``acton_2://`` are the same dialects under the names CData uses for
SQLAlchemy 2.0. The dialects are registered as ``sqlalchemy.dialects`` entry points, so
``create_engine`` finds them once the package is installed; this module imports SQLAlchemy,
``connector`` itself does not.

What they do:

- Reflection from the system tables: table names (``sys_tables``, TableType TABLE; HubDB
  drafts such as ``events_Draft``), view names (TableType VIEW; HubDB's published tables),
  columns with their types (``sys_tablecolumns``), the primary key (``sys_primarykeys``) and
  ``has_table``. Read-only columns (``CreatedAt``, ...) are reflected as server-computed, so
  Core and ORM inserts and updates leave them out. Foreign keys and indexes are not
  reflected (see :meth:`ConnectorDialect.get_foreign_keys`).
- SQL as the connector takes it: ``[bracket]`` quoting, ``?`` parameters, ``LIMIT``/``OFFSET``;
  no RETURNING, sequences or DDL.
- No transactions: every statement applies at once, ``commit()``/``rollback()`` do nothing
  (the engine's isolation level is AUTOCOMMIT).
- Inserted keys: an INSERT's key comes from ``cursor.lastrowid`` (the connector's
  ``SCOPE_IDENTITY()``), so an ORM object added to a session learns its HubDB ``Id``.

A connection string that does not survive URL parsing (a value with ``+``, ``%`` or ``&``)
can be given whole with ``connect_args``, or turned into a URL with :func:`url`::

    create_engine("hubdb://", connect_args={"connection_string": cs})
    create_engine(connector.sqlalchemy.url("hubdb", cs))

``engine.url`` never shows the connection string (it carries secrets): it reads
``hubdb:///?connection_string=redacted``.
"""

from __future__ import annotations

import urllib.parse
from typing import Any, Optional

from sqlalchemy import exc
from sqlalchemy import types as sqltypes
from sqlalchemy.engine import default, reflection
from sqlalchemy.engine.url import URL
from sqlalchemy.sql import compiler

__all__ = ["ConnectorDialect", "HubDBDialect", "ActOnDialect", "url"]

#: The ``connect_args`` key that carries the whole connection string.
CONNECT_ARG = "connection_string"


def url(dialect: str, connection_string: str) -> str:
    """An engine URL (``hubdb:///?...``) carrying ``connection_string`` exactly: the characters
    URL parsing would change (``+``, ``%``, ``&``, ``#``, spaces) are percent-encoded."""
    return f"{dialect}:///?" + urllib.parse.quote(connection_string, safe=";=:/,'\"@{}[]()!*$?")


def _connection_string(u: URL) -> Optional[str]:
    """The connection string of an engine URL: the text after ``?``, rebuilt from the query
    SQLAlchemy parsed (it splits on ``&`` and percent-decodes; we join the pieces again)."""
    if not u.query:
        return None
    parts = []
    for key, value in u.query.items():
        for item in value if isinstance(value, tuple) else (value,):
            parts.append(f"{key}={item}")
    return "&".join(parts)


class STRUCT(sqltypes.TypeEngine):
    """A struct column (HubDB IMAGE and LOCATION): values are ``dict``s."""

    __visit_name__ = "STRUCT"

    @property
    def python_type(self) -> type:
        return dict


#: ``sys_tablecolumns.DataTypeName`` to SQLAlchemy types.
_TYPES: dict[str, Any] = {
    "bool": sqltypes.Boolean,
    "int": sqltypes.Integer,
    "bigint": sqltypes.BigInteger,
    "float": sqltypes.Float,
    "double": sqltypes.Double,
    "decimal": sqltypes.Numeric,
    "date": sqltypes.Date,
    "datetime": lambda: sqltypes.DateTime(timezone=True),
    "time": sqltypes.Time,
    "varchar": sqltypes.String,
    "binary": sqltypes.LargeBinary,
    "array": lambda: sqltypes.ARRAY(sqltypes.String()),
    "struct": STRUCT,
}


def _column_type(name: str, precision: Optional[int], scale: Optional[int]) -> sqltypes.TypeEngine:
    if name == "decimal":
        return sqltypes.Numeric(precision, scale)
    make = _TYPES.get((name or "").lower())
    return make() if make is not None else sqltypes.NullType()


class ConnectorIdentifierPreparer(compiler.IdentifierPreparer):
    """``[bracket]`` quoting, as CData's SQL has it."""

    reserved_words = compiler.RESERVED_WORDS | {
        "date",
        "time",
        "timestamp",
        "interval",
        "limit",
        "offset",
        "top",
        "value",
        "values",
        "key",
        "index",
        "exec",
        "execute",
        "type",
    }

    def __init__(self, dialect: default.DefaultDialect) -> None:
        super().__init__(dialect, initial_quote="[", final_quote="]")

    def _escape_identifier(self, value: str) -> str:
        return value.replace("]", "]]")

    def _unescape_identifier(self, value: str) -> str:
        return value.replace("]]", "]")


class ConnectorCompiler(compiler.SQLCompiler):
    def limit_clause(self, select: Any, **kw: Any) -> str:
        text = ""
        if select._limit_clause is not None:
            text += "\n LIMIT " + self.process(select._limit_clause, **kw)
        if select._offset_clause is not None:
            text += " OFFSET " + self.process(select._offset_clause, **kw)
        return text

    def for_update_clause(self, select: Any, **kw: Any) -> str:
        # No locks: rows live in the service.
        return ""


class ConnectorTypeCompiler(compiler.GenericTypeCompiler):
    """Type names in CAST as the engine spells them."""

    def visit_datetime(self, type_: Any, **kw: Any) -> str:
        return "TIMESTAMP"

    def visit_TEXT(self, type_: Any, **kw: Any) -> str:
        return "VARCHAR"

    def visit_CLOB(self, type_: Any, **kw: Any) -> str:
        return "VARCHAR"

    def visit_double(self, type_: Any, **kw: Any) -> str:
        return "DOUBLE"

    def visit_STRUCT(self, type_: Any, **kw: Any) -> str:
        raise exc.CompileError("struct columns cannot be cast")


class ConnectorExecutionContext(default.DefaultExecutionContext):
    def get_lastrowid(self) -> Any:
        # The key the service gave the last inserted row (SCOPE_IDENTITY()).
        return self.cursor.lastrowid


class ConnectorDialect(default.DefaultDialect):
    """The dialect of one connector source (``source`` names the ``connector.<source>``
    module). Subclassed per source below."""

    source = ""
    driver = "connector"
    supports_statement_cache = True

    default_paramstyle = "qmark"
    statement_compiler = ConnectorCompiler
    type_compiler_cls = ConnectorTypeCompiler
    preparer = ConnectorIdentifierPreparer
    execution_ctx_cls = ConnectorExecutionContext

    max_identifier_length = 255
    supports_native_boolean = True
    supports_native_decimal = True
    supports_sequences = False
    sequences_optional = True
    supports_default_values = False
    supports_default_metavalue = False
    supports_empty_insert = False
    supports_multivalues_insert = True
    supports_alter = False
    supports_comments = True
    inline_comments = False
    supports_server_side_cursors = False
    supports_sane_rowcount = True
    supports_sane_multi_rowcount = True
    supports_simple_order_by_label = True
    insert_returning = False
    update_returning = False
    delete_returning = False
    implicit_returning = False
    full_returning = False
    use_insertmanyvalues = False
    postfetch_lastrowid = True
    requires_name_normalize = False
    supports_is_distinct_from = True

    @classmethod
    def import_dbapi(cls) -> Any:
        import importlib

        return importlib.import_module(f"connector.{cls.source}")

    # -- connecting ----------------------------------------------------------------------

    def create_connect_args(self, u: URL) -> tuple[list[Any], dict[str, Any]]:
        extra = [
            what
            for what, value in (
                ("a user name", u.username),
                ("a password", u.password),
                ("a host", u.host),
                ("a port", u.port),
                ("a database", u.database),
            )
            if value
        ]
        if extra:
            raise exc.ArgumentError(
                f"{self.name}:// URLs take the whole connection string after '?' "
                f"({self.name}:///?AuthScheme=...;...); this one has {', '.join(extra)}"
            )
        cs = _connection_string(u)
        return ([cs] if cs is not None else []), {}

    def connect(self, *cargs: Any, **cparams: Any) -> Any:
        connection_string = cparams.pop(CONNECT_ARG, None)
        if cparams:
            raise exc.ArgumentError(
                f"unknown connect_args {sorted(cparams)}: the {self.name} dialect takes only "
                f"{CONNECT_ARG!r} (the whole connection string)"
            )
        if connection_string is None:
            if not cargs:
                raise exc.ArgumentError(
                    f"no connection string: use create_engine(\"{self.name}:///?AuthScheme=...;...\") "
                    f"or connect_args={{{CONNECT_ARG!r}: \"...\"}}"
                )
            connection_string = cargs[0]
        return self.loaded_dbapi.connect(connection_string)

    @classmethod
    def engine_created(cls, engine: Any) -> None:
        # The URL holds the connection string and with it tokens and passwords: keep it out of
        # repr(engine), logs and tracebacks. The pool already has what it needs to connect.
        if engine.url.query:
            engine.url = engine.url.set(query={CONNECT_ARG: "redacted"})

    def do_close(self, dbapi_connection: Any) -> None:
        if not dbapi_connection.closed:
            dbapi_connection.close()

    # -- no transactions -----------------------------------------------------------------

    def do_begin(self, dbapi_connection: Any) -> None:
        pass

    def do_commit(self, dbapi_connection: Any) -> None:
        # Writes were applied when they ran.
        pass

    def do_rollback(self, dbapi_connection: Any) -> None:
        # Nothing can be undone; SQLAlchemy also calls this when a connection returns to the
        # pool, where it must not fail.
        pass

    def get_isolation_level(self, dbapi_connection: Any) -> str:
        return "AUTOCOMMIT"

    def get_isolation_level_values(self, dbapi_connection: Any) -> list[str]:
        return ["AUTOCOMMIT"]

    def set_isolation_level(self, dbapi_connection: Any, level: str) -> None:
        if level != "AUTOCOMMIT":
            raise exc.ArgumentError(
                f"isolation level {level!r}: the {self.name} dialect has no transactions, only AUTOCOMMIT"
            )

    def reset_isolation_level(self, dbapi_connection: Any) -> None:
        pass

    def _get_server_version_info(self, connection: Any) -> Optional[tuple[int, ...]]:
        return None

    def _get_default_schema_name(self, connection: Any) -> str:
        # The source's name, the schema its tables are listed under (`hubdb.events`).
        return connection.connection.dbapi_connection.source

    def is_disconnect(self, e: Exception, connection: Any, cursor: Any) -> bool:
        return "the connection is closed" in str(e)

    # -- reflection ----------------------------------------------------------------------

    def _rows(self, connection: Any, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        return list(connection.exec_driver_sql(sql, params).fetchall())

    def _schema(self, connection: Any, schema: Optional[str]) -> str:
        return schema or self.default_schema_name or self.source

    @reflection.cache
    def _tables(self, connection: Any, schema: Optional[str] = None, **kw: Any) -> list[Any]:
        """``(TableName, TableType, Description)`` of every table and view of the schema."""
        return self._rows(
            connection,
            "SELECT TableName, TableType, Description FROM sys_tables WHERE SchemaName = ?",
            (self._schema(connection, schema),),
        )

    def _table_name(self, connection: Any, table_name: str, schema: Optional[str], **kw: Any) -> Optional[str]:
        """The table's name as the source spells it (names match ignoring case, as in SQL)."""
        names = [row[0] for row in self._tables(connection, schema, **kw)]
        if table_name in names:
            return table_name
        folded = [n for n in names if n.lower() == table_name.lower()]
        return folded[0] if len(folded) == 1 else None

    def _require(self, connection: Any, table_name: str, schema: Optional[str], **kw: Any) -> str:
        name = self._table_name(connection, table_name, schema, **kw)
        if name is None:
            raise exc.NoSuchTableError(table_name)
        return name

    def get_schema_names(self, connection: Any, **kw: Any) -> list[str]:
        return [row[0] for row in self._rows(connection, "SELECT SchemaName FROM sys_schemas")]

    def get_table_names(self, connection: Any, schema: Optional[str] = None, **kw: Any) -> list[str]:
        return [name for name, kind, _ in self._tables(connection, schema, **kw) if kind == "TABLE"]

    def get_view_names(self, connection: Any, schema: Optional[str] = None, **kw: Any) -> list[str]:
        return [name for name, kind, _ in self._tables(connection, schema, **kw) if kind == "VIEW"]

    def has_table(self, connection: Any, table_name: str, schema: Optional[str] = None, **kw: Any) -> bool:
        self._ensure_has_table_connection(connection)
        return self._table_name(connection, table_name, schema, **kw) is not None

    @reflection.cache
    def _columns(self, connection: Any, schema: Optional[str] = None, **kw: Any) -> dict[str, list[Any]]:
        """Every column of the schema from ``sys_tablecolumns``, by table, in order."""
        rows = self._rows(
            connection,
            "SELECT TableName, ColumnName, DataTypeName, NumericPrecision, NumericScale, "
            "IsNullable, Description, IsAutoIncrement, IsReadOnly, IsKey "
            "FROM sys_tablecolumns WHERE SchemaName = ? ORDER BY TableName, Ordinal",
            (self._schema(connection, schema),),
        )
        by_table: dict[str, list[Any]] = {}
        for row in rows:
            by_table.setdefault(row[0], []).append(row)
        return by_table

    def get_columns(
        self, connection: Any, table_name: str, schema: Optional[str] = None, **kw: Any
    ) -> list[dict[str, Any]]:
        name = self._require(connection, table_name, schema, **kw)
        columns = []
        for _, column, type_name, precision, scale, nullable, description, auto, read_only, key in (
            self._columns(connection, schema, **kw).get(name, [])
        ):
            type_ = _column_type(type_name, precision, scale)
            entry: dict[str, Any] = {
                "name": column,
                "type": type_,
                "nullable": bool(nullable),
                "default": None,
                "autoincrement": bool(
                    key and str(auto).lower() == "true" and isinstance(type_, sqltypes.Integer)
                ),
                "comment": description or None,
            }
            if read_only and not key:
                # Set by the service (CreatedAt, UpdatedAt, ...): never written by Core or the ORM.
                entry["computed"] = {"sqltext": column, "persisted": True}
            columns.append(entry)
        return columns

    @reflection.cache
    def _primary_keys(self, connection: Any, schema: Optional[str] = None, **kw: Any) -> dict[str, Any]:
        """``{table: (key name, [columns])}`` from ``sys_primarykeys``, or from the ``IsKey``
        columns of ``sys_tablecolumns`` where that table does not exist."""
        schema_name = self._schema(connection, schema)
        keys: dict[str, Any] = {}
        try:
            rows = self._rows(
                connection,
                "SELECT TableName, ColumnName, KeyName FROM sys_primarykeys "
                "WHERE SchemaName = ? ORDER BY TableName, KeySeq",
                (schema_name,),
            )
        except exc.DBAPIError:
            rows = [
                (table, column, None)
                for table, columns in self._columns(connection, schema, **kw).items()
                for (_, column, *_rest, key) in columns
                if key
            ]
        for table, column, key_name in rows:
            keys.setdefault(table, (key_name, []))[1].append(column)
        return keys

    def get_pk_constraint(
        self, connection: Any, table_name: str, schema: Optional[str] = None, **kw: Any
    ) -> dict[str, Any]:
        name = self._require(connection, table_name, schema, **kw)
        key_name, columns = self._primary_keys(connection, schema, **kw).get(name, (None, []))
        return {"constrained_columns": list(columns), "name": key_name}

    def get_foreign_keys(
        self, connection: Any, table_name: str, schema: Optional[str] = None, **kw: Any
    ) -> list[dict[str, Any]]:
        """None. The only foreign keys the sources declare are HubDB FOREIGN_ID columns
        (``sys_foreignkeys``), which hold a list of row ids each: as an SQLAlchemy foreign key
        they would produce joins of a list against an ``Id``."""
        self._require(connection, table_name, schema, **kw)
        return []

    def get_indexes(
        self, connection: Any, table_name: str, schema: Optional[str] = None, **kw: Any
    ) -> list[dict[str, Any]]:
        """None: the only index (``sys_indexes``) is each table's key, which is the primary key."""
        self._require(connection, table_name, schema, **kw)
        return []

    def get_unique_constraints(
        self, connection: Any, table_name: str, schema: Optional[str] = None, **kw: Any
    ) -> list[dict[str, Any]]:
        self._require(connection, table_name, schema, **kw)
        return []

    def get_check_constraints(
        self, connection: Any, table_name: str, schema: Optional[str] = None, **kw: Any
    ) -> list[dict[str, Any]]:
        self._require(connection, table_name, schema, **kw)
        return []

    def get_table_comment(
        self, connection: Any, table_name: str, schema: Optional[str] = None, **kw: Any
    ) -> dict[str, Any]:
        name = self._require(connection, table_name, schema, **kw)
        for table, _, description in self._tables(connection, schema, **kw):
            if table == name:
                return {"text": description or None}
        return {"text": None}

    def get_sequence_names(self, connection: Any, schema: Optional[str] = None, **kw: Any) -> list[str]:
        return []

    def get_temp_table_names(self, connection: Any, schema: Optional[str] = None, **kw: Any) -> list[str]:
        return []

    def get_temp_view_names(self, connection: Any, schema: Optional[str] = None, **kw: Any) -> list[str]:
        return []


class HubDBDialect(ConnectorDialect):
    """``hubdb://``: HubSpot HubDB (``connector.hubdb``). Drafts (``events_Draft``) are the
    writable tables, published tables are views."""

    name = "hubdb"
    source = "hubdb"
    supports_statement_cache = True


class ActOnDialect(ConnectorDialect):
    """``acton://``: Act-On (``connector.acton``)."""

    name = "acton"
    source = "acton"
    supports_statement_cache = True
