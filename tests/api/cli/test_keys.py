"""``routeplan keys create|list|revoke`` on a SQLite file: the secret is shown once and works,
the list never shows secrets, a revoked key stops working."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from api.settings import get_settings
from engine.jobs.keys import KeyStore, Role

runner = CliRunner()


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The database the commands use (``ROUTEPLAN_DATABASE_URL``)."""
    database_url = f"sqlite:///{tmp_path / 'keys.db'}"
    monkeypatch.setenv("ROUTEPLAN_DATABASE_URL", database_url)
    monkeypatch.setenv("ROUTEPLAN_API_KEYS", "")
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


def _create(name: str, role: str) -> str:
    result = runner.invoke(app, ["keys", "create", name, "--role", role])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout  # the secret, alone on stdout
    return lines[0]


def test_create_prints_a_secret_that_the_store_accepts(url: str) -> None:
    secret = _create("ci", "plan")
    store = KeyStore(url)
    record = store.verify(secret)
    store.close()
    assert record is not None and (record.name, record.role) == ("ci", Role.PLAN)


def test_two_keys_get_different_secrets(url: str) -> None:
    assert _create("a", "read") != _create("b", "read")


def test_list_shows_names_and_roles_but_no_secret(url: str) -> None:
    secrets = [_create("board", "read"), _create("ops", "admin")]
    result = runner.invoke(app, ["keys", "list"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert any("board" in line and "read" in line for line in lines)
    assert any("ops" in line and "admin" in line for line in lines)
    assert all(secret not in result.output for secret in secrets)


def test_list_of_an_empty_store(url: str) -> None:
    result = runner.invoke(app, ["keys", "list"])
    assert result.exit_code == 0 and "no keys" in result.stdout


def test_revoke_stops_the_key_and_list_shows_it(url: str) -> None:
    secret = _create("ci", "plan")
    kept = _create("other", "plan")
    result = runner.invoke(app, ["keys", "revoke", "ci"])
    assert result.exit_code == 0, result.output
    assert "revoked" in result.stdout
    store = KeyStore(url)
    assert store.verify(secret) is None
    assert store.verify(kept) is not None
    records = {record.name: record for record in store.all_keys()}
    store.close()
    assert records["ci"].revoked_at is not None and records["other"].revoked_at is None
    revoked_at = records["ci"].revoked_at
    assert revoked_at is not None
    listed = runner.invoke(app, ["keys", "list"]).stdout
    (ci_line,) = [line for line in listed.splitlines() if " ci " in line]
    assert revoked_at.isoformat("T", "seconds") in ci_line


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["keys", "revoke", "nobody"], "is no key"),
        (["keys", "create", "x", "--role", "root"], "is not a role"),
        (["keys", "create", "x", "--role", "dispatch"], "reserved"),
        (["keys", "create", "bad name", "--role", "read"], "not a key name"),
    ],
)
def test_bad_input_exits_2_naming_the_problem(url: str, args: list[str], says: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert says in result.output


def test_a_name_is_never_reused(url: str) -> None:
    _create("ci", "plan")
    runner.invoke(app, ["keys", "revoke", "ci"])
    result = runner.invoke(app, ["keys", "create", "ci", "--role", "plan"])
    assert result.exit_code == 2
    assert "is taken" in result.output


def test_create_needs_a_role(url: str) -> None:
    result = runner.invoke(app, ["keys", "create", "ci"])
    assert result.exit_code == 2
    assert "--role" in result.output
