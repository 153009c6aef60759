"""Alembic migrations of the store, run programmatically by ``Store.migrate()``."""
