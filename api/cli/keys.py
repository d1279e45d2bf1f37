"""``routeplan keys create|list|revoke``: API keys kept hashed in the job store's database.

The server reads them from the same database (``ROUTEPLAN_DATABASE_URL``) when its keys are
on (``ROUTEPLAN_API_KEYS`` not empty; ``@db`` for database keys only). ``create`` prints the
secret once, alone on stdout (the note goes to stderr), so that a script can keep it.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from api.cli.app import app
from api.cli.common import console, error_console
from api.settings import get_settings
from engine.jobs.keys import KeyStore, parse_role
from models.errors import InvalidInputError

keys_app = typer.Typer(
    help="API keys in the database: create (the secret is shown once), list, revoke.",
    no_args_is_help=True,
)
app.add_typer(keys_app, name="keys")


def _store() -> KeyStore:
    return KeyStore(get_settings().job_database_url())


@keys_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="the key's name (what its jobs record)")],
    role: Annotated[str, typer.Option(help="read, plan or admin")],
) -> None:
    """Create a key and print its secret, once: it is stored only as a hash."""
    store = _store()
    try:
        record, secret = store.create(name, parse_role(role, "--role"))
    finally:
        store.close()
    error_console.print(
        f"created key {record.name!r} (role {record.role.value}); its secret, shown only now:"
    )
    typer.echo(secret)
    if not get_settings().api_keys:
        error_console.print(
            "note: ROUTEPLAN_API_KEYS is empty, so a server started now needs no key; "
            "set it to @db (database keys only) or list env keys to turn keys on"
        )


@keys_app.command("list")
def list_keys() -> None:
    """Every key, revoked ones included (secrets are never shown)."""
    store = _store()
    try:
        records = store.all_keys()
    finally:
        store.close()
    table = Table("name", "role", "created", "revoked")
    for record in records:
        revoked = "" if record.revoked_at is None else record.revoked_at.isoformat("T", "seconds")
        table.add_row(
            record.name, record.role.value, record.created_at.isoformat("T", "seconds"), revoked
        )
    console.print(table if records else "no keys")


@keys_app.command("revoke")
def revoke(name: Annotated[str, typer.Argument(help="the key's name")]) -> None:
    """Revoke a key: servers refuse it within their key cache time (30 s)."""
    store = _store()
    try:
        record = store.revoke(name)
    finally:
        store.close()
    if record is None:
        raise InvalidInputError.for_field("name", name, "is no key (see routeplan keys list)")
    assert record.revoked_at is not None
    console.print(f"revoked key {record.name!r} at {record.revoked_at.isoformat('T', 'seconds')}")
