"""The database handle shared by every domain, and migrations.

Models subclass ``db.Model``; the naming convention gives every constraint a
stable name so Alembic migrations are identical on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import BigInteger, ColumnElement, Enum, Integer, MetaData, event, func, or_
from sqlalchemy.engine import CursorResult, Engine, Result
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()

if TYPE_CHECKING:
    # What ``db.Model`` is at run time (Flask-SQLAlchemy builds it dynamically,
    # so the type checker sees this instead): models subclass ``Model``.
    class Model(Base):
        __abstract__ = True
else:
    Model = db.Model

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL wants BIGINT for
# tables that grow by millions of rows per send.
BigId = BigInteger().with_variant(Integer(), "sqlite")
# Ids that appear in tokens are never reused: SQLite hands out the highest id
# again after that row is deleted unless the table says AUTOINCREMENT.
NO_ID_REUSE = {"sqlite_autoincrement": True}


def state_type(enum: type[StrEnum], name: str = "status", length: int = 20) -> Enum:
    """A state column: VARCHAR with a CHECK constraint (``ck_<table>_<name>``)
    listing the enum's values, the same on SQLite and PostgreSQL, so no code
    path, script or manual UPDATE can store a state the domain does not know."""
    return Enum(
        enum,
        native_enum=False,
        create_constraint=True,
        length=length,
        name=name,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


def rowcount(result: Result[*tuple[Any, ...]]) -> int:
    """Rows an UPDATE or DELETE matched. ``Session.execute`` is typed as returning
    a plain ``Result``, but for these statements it is a ``CursorResult``, the one
    kind of result that carries the count."""
    assert isinstance(result, CursorResult)
    return result.rowcount


def utcnow() -> datetime:
    """Naive UTC timestamp: both databases store it the same way."""
    return datetime.now(UTC).replace(tzinfo=None)


def is_postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:  # noqa: ARG001
    # SQLite needs foreign keys switched on per connection, WAL lets the web
    # process read while the worker writes, and a busy timeout turns lock
    # contention into waiting instead of "database is locked" errors.
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def init_app(app: Flask) -> None:
    db.init_app(app)
    migrations = str(Path(__file__).resolve().parent.parent / "migrations")
    migrate.init_app(app, db, directory=migrations, render_as_batch=True, compare_type=True)


def contains_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, the user's ``%`` and ``_`` taken
    literally (use with ``escape="\\\\"``)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


MAX_SEARCH_WORDS = 8  # every word must match; more words add nothing but cost


def every_word_in(q: str, columns: Sequence[Any]) -> list[ColumnElement[bool]]:
    """One condition per word of ``q`` (case-insensitive, ``%`` and ``_`` literal):
    the word appears in at least one of ``columns``. The search boxes' rule."""
    return [
        or_(*(func.lower(column).like(contains_pattern(word), escape="\\") for column in columns))
        for word in q.lower().split()[:MAX_SEARCH_WORDS]
    ]


def for_this_dialect(dialect: str):
    """An Alembic ``include_object`` hook: leave out of the comparison the
    indexes declared for another database only (``Index(...).ddl_if(dialect=)``),
    such as the GIN indexes SQLite does not have."""

    def include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        only = getattr(obj, "_ddl_if", None)
        return only is None or only.dialect is None or only.dialect == dialect

    return include
