"""Alembic's scripts for routeplan's database: ``env.py`` and ``versions/`` (run by Alembic)."""
