"""Alembic environment: runs on the connection that ``Store.migrate()`` hands over.

There is no alembic.ini: the store's URL is the only configuration, and ``Store.migrate()`` already
holds a connection (and, on PostgreSQL, a lock that keeps concurrent starts from racing).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from store.models import Base

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("store migrations run through Store.migrate(), which passes a connection")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
