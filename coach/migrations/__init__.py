"""Alembic migrations of the program database; coach.store runs them on open (no alembic.ini needed)."""
