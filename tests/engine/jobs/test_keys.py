"""The key table on SQLite and PostgreSQL: create, verify, list, revoke; hashes never match
a wrong secret."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from engine.jobs.keys import KeyStore, Role, hash_secret, verify_secret
from models.errors import InvalidInputError
from tests.postgres import fresh_postgres_url


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[KeyStore]:
    """A key store on a fresh database of its own."""
    with ExitStack() as stack:
        url = (
            f"sqlite:///{tmp_path / 'jobs.db'}"
            if request.param == "sqlite"
            else stack.enter_context(fresh_postgres_url())
        )
        keys = KeyStore(url)
        stack.callback(keys.close)
        yield keys


def test_a_created_key_verifies_until_revoked(store: KeyStore) -> None:
    record, secret = store.create("ci", Role.PLAN)
    assert (record.name, record.role, record.active) == ("ci", Role.PLAN, True)
    found = store.verify(secret)
    assert found is not None and found.name == "ci"
    assert store.verify(secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None
    revoked = store.revoke("ci")
    assert revoked is not None and not revoked.active
    assert store.verify(secret) is None
    assert store.revoke("nobody") is None


def test_names_are_unique_even_after_revoking(store: KeyStore) -> None:
    store.create("ci", Role.READ)
    store.revoke("ci")
    with pytest.raises(InvalidInputError, match="is taken"):
        store.create("ci", Role.ADMIN)
    assert [(r.name, r.role) for r in store.all_keys()] == [("ci", Role.READ)]


def test_secrets_of_another_form_are_not_looked_up(store: KeyStore) -> None:
    assert store.verify("plain-env-secret") is None


def test_hashes_are_salted() -> None:
    first, second = hash_secret("same"), hash_secret("same")
    assert first != second
    assert verify_secret("same", first) and verify_secret("same", second)
    assert not verify_secret("other", first)
    assert not verify_secret("same", "md5$whatever")
