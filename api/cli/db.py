"""``routeplan db upgrade|current``: the schema of the database of jobs and API keys.

The database is the configured one (``ROUTEPLAN_DATABASE_URL``, else SQLite in the cache
folder). Servers apply the migrations themselves when they start; ``upgrade`` does it ahead
of time (before a deploy, say) and prints the revision before and after.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import typer
from alembic.util import CommandError
from sqlalchemy.engine import make_url

from api.cli.app import app
from api.settings import get_settings
from engine.db import current_revision, head_revision, upgrade
from models.errors import InvalidInputError

T = TypeVar("T")

db_app = typer.Typer(
    help="The database's schema: apply the migrations, show the revision.",
    no_args_is_help=True,
)
app.add_typer(db_app, name="db")


def _database() -> tuple[str, str]:
    """The configured database's URL, and the same with its password hidden."""
    url = get_settings().job_database_url()
    return url, make_url(url).render_as_string(hide_password=True)


def _migrating(url: str, call: Callable[[], T]) -> T:
    """``call()``, with Alembic's refusals (a revision it does not know) as invalid input."""
    try:
        return call()
    except CommandError as error:
        shown = make_url(url).render_as_string(hide_password=True)
        raise InvalidInputError.for_field(
            "ROUTEPLAN_DATABASE_URL", shown, f"cannot be migrated: {error}"
        ) from None


@db_app.command("upgrade")
def upgrade_command() -> None:
    """Apply the migrations to the configured database (up to the newest revision)."""
    url, shown = _database()
    before = _migrating(url, lambda: current_revision(url))
    after = _migrating(url, lambda: upgrade(url))
    typer.echo(f"database: {shown}")
    typer.echo(f"before: {before or '(empty)'}")
    typer.echo(f"after: {after}")


@db_app.command("current")
def current_command() -> None:
    """Print the configured database's revision and the newest one this version knows."""
    url, shown = _database()
    current = _migrating(url, lambda: current_revision(url))
    typer.echo(f"database: {shown}")
    typer.echo(f"current: {current or '(empty)'}")
    typer.echo(f"head: {head_revision()}")
