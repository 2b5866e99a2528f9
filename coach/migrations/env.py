"""Alembic environment: runs on the connection coach.store hands over (see Store._upgrade)."""

from __future__ import annotations

from alembic import context

from coach.store import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("coach migrations run through coach.store.open_store, which passes a connection")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
