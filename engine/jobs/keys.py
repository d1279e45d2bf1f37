"""API keys kept in the database, hashed: create, list, revoke and verify.

One SQL table beside the job store (same SQLAlchemy URL): a key's ``name`` (unique, never
reused, so that what a key created stays its own), its ``role``, a public ``lookup`` id, the
salted scrypt ``hash`` of its secret, ``created_at`` and ``revoked_at``. A secret reads
``rpk_<lookup>_<random>``: the lookup id finds the one row to check, so a check costs one
indexed read and one scrypt, whatever the number of keys. The secret itself is shown once,
by :meth:`KeyStore.create`, and never stored.

The table (:data:`engine.db.schema.API_KEYS`) is made by the migrations, applied on first use
(:func:`engine.db.migrate.ensure_schema`), so building a store never touches the database.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Table, select, update
from sqlalchemy.exc import DisconnectionError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from engine.db import aware, ensure_schema, make_engine, report_unreachable
from engine.db.schema import API_KEYS
from models.errors import InvalidInputError, StoreUnavailableError

#: The start of every secret made here (env keys may be anything).
SECRET_PREFIX = "rpk_"
#: A key's name: what jobs record as their creator.
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
#: scrypt's cost (2**14 blocks of 8 x 128 bytes: 16 MiB, some tens of ms).
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
_SECRET = re.compile(r"rpk_([0-9a-f]{16})_([A-Za-z0-9_-]{20,100})")


class Role(StrEnum):
    """What a key may do; each role also grants those before it."""

    READ = "read"  # GET endpoints and plan checks
    PLAN = "plan"  # also solves, allocations, plans, jobs (submit, cancel its own)
    ADMIN = "admin"  # everything, and every job

    def grants(self, needed: Role) -> bool:
        """Whether a key of this role may do what needs ``needed``."""
        order = list(Role)
        return order.index(self) >= order.index(needed)


#: Role names kept for later: accepted by no parser yet, named in the error message.
RESERVED_ROLES = {"dispatch": "is reserved for when dispatch events exist"}


def parse_role(value: str, field: str) -> Role:
    """A role from its name (``read``, ``plan``, ``admin``); InvalidInputError otherwise."""
    try:
        return Role(value.strip().lower())
    except ValueError:
        why = RESERVED_ROLES.get(value.strip().lower(), "is not a role")
        choices = ", ".join(role.value for role in Role)
        raise InvalidInputError.for_field(field, value, f"{why}: use one of {choices}") from None


def check_name(name: str, field: str = "name") -> str:
    """``name`` if it is a valid key name, else InvalidInputError."""
    if not NAME_PATTERN.fullmatch(name):
        raise InvalidInputError.for_field(
            field, name, "is not a key name: 1-64 letters, digits, '.', '_' or '-'"
        )
    return name


def hash_secret(secret: str, salt: bytes | None = None) -> str:
    """``scrypt$n$r$p$salt$hash`` (hex) of ``secret``, with a new random salt by default."""
    salt = secrets.token_bytes(16) if salt is None else salt
    digest = hashlib.scrypt(
        secret.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32
    )
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_secret(secret: str, stored: str) -> bool:
    """Whether ``secret`` matches a hash made by :func:`hash_secret` (constant-time)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        given = hashlib.scrypt(
            secret.encode(),
            salt=bytes.fromhex(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(digest) // 2,
        )
    except ValueError:
        return False
    return hmac.compare_digest(given.hex(), digest)


@dataclass(frozen=True)
class KeyRecord:
    """One key of the table (its secret is not kept)."""

    name: str
    role: Role
    lookup: str
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        """Whether the key still works."""
        return self.revoked_at is None


@contextmanager
def _reachable() -> Iterator[None]:
    """Turn a pool or connection timeout into StoreUnavailableError."""
    try:
        yield
    except (PoolTimeoutError, DisconnectionError) as error:
        raise StoreUnavailableError("the key store is unreachable; retry later") from error


class KeyStore:
    """API keys in a SQL table: create (the secret is returned once), list, revoke, verify.

    A database that cannot be reached raises ``StoreUnavailableError`` (as the job store);
    connecting and each statement are bounded by ``connect_timeout_s`` and
    ``statement_timeout_s``.
    """

    def __init__(
        self,
        url: str,
        *,
        connect_timeout_s: float = 3.0,
        statement_timeout_s: float = 5.0,
    ) -> None:
        self.url = url
        self.engine = report_unreachable(
            make_engine(
                url, connect_timeout_s=connect_timeout_s, statement_timeout_s=statement_timeout_s
            ),
            "the key store is unreachable; retry later",
        )
        self.table: Table = API_KEYS
        self._timeouts_s = {
            "connect_timeout_s": connect_timeout_s,
            "statement_timeout_s": statement_timeout_s,
        }
        self._created = False
        self._lock = threading.Lock()

    def _ready(self) -> Table:
        """The table, once the migrations are applied (on first use)."""
        with self._lock:
            if not self._created:
                with _reachable():
                    ensure_schema(self.engine, **self._timeouts_s)
                self._created = True
        return self.table

    def _record(self, row: Any) -> KeyRecord:
        m = row._mapping
        created_at = aware(m["created_at"])
        assert created_at is not None
        return KeyRecord(
            name=m["name"],
            role=Role(m["role"]),
            lookup=m["lookup"],
            created_at=created_at,
            revoked_at=aware(m["revoked_at"]),
        )

    def create(self, name: str, role: Role) -> tuple[KeyRecord, str]:
        """A new key and its secret (shown once); InvalidInputError if ``name`` is taken."""
        t = self._ready()
        check_name(name)
        lookup = secrets.token_hex(8)
        secret = f"{SECRET_PREFIX}{lookup}_{secrets.token_urlsafe(32)}"
        values = {
            "name": name,
            "role": Role(role).value,
            "lookup": lookup,
            "hash": hash_secret(secret),
            "created_at": datetime.now(UTC),
        }
        try:
            with _reachable(), self.engine.begin() as conn:
                conn.execute(t.insert().values(**values))
        except IntegrityError:
            raise InvalidInputError.for_field(
                "name", name, "is taken: a key of that name exists or was revoked"
            ) from None
        record = self.get(name)
        assert record is not None
        return record, secret

    def get(self, name: str) -> KeyRecord | None:
        """The key called ``name``, or None."""
        t = self._ready()
        with _reachable(), self.engine.connect() as conn:
            row = conn.execute(select(t).where(t.c.name == name)).first()
        return None if row is None else self._record(row)

    def all_keys(self) -> list[KeyRecord]:
        """Every key, revoked ones included, oldest first."""
        t = self._ready()
        with _reachable(), self.engine.connect() as conn:
            rows = conn.execute(select(t).order_by(t.c.created_at, t.c.name)).all()
        return [self._record(row) for row in rows]

    def revoke(self, name: str) -> KeyRecord | None:
        """Revoke the key called ``name`` (already revoked: left as it was); None if unknown."""
        t = self._ready()
        with _reachable(), self.engine.begin() as conn:
            conn.execute(
                update(t)
                .where(t.c.name == name, t.c.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
            )
        return self.get(name)

    def verify(self, secret: str) -> KeyRecord | None:
        """The active key whose secret this is, or None."""
        match = _SECRET.fullmatch(secret)
        if match is None:
            return None
        t = self._ready()
        with _reachable(), self.engine.connect() as conn:
            row = conn.execute(select(t).where(t.c.lookup == match.group(1))).first()
        if row is None or row._mapping["revoked_at"] is not None:
            return None
        if not verify_secret(secret, row._mapping["hash"]):
            return None
        return self._record(row)

    def close(self) -> None:
        """Close the connections."""
        self.engine.dispose()
