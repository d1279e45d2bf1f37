"""Public tracking tokens on an open transaction: make an order's once, find it again.

A token is :data:`TOKEN_BYTES` random bytes from :mod:`secrets`, URL-safe base64 (32
characters, 192 bits): it cannot be guessed, so it is all a customer's page needs. The
first request for an order's token inserts one; when a concurrent request inserted its own
first (the ``order_seq`` is unique), the insert fails inside a savepoint and the one stored
is read instead, so every caller gets the same token.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from engine.tracking.tables import tracking_tokens

#: Random bytes in a token (192 bits).
TOKEN_BYTES = 24
#: What a token may look like: URL-safe base64, no longer than the column. Anything else is
#: answered as an unknown token without asking the database.
_SHAPE = re.compile(r"[A-Za-z0-9_-]{16,64}")


def new_token() -> str:
    """A fresh random token."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def well_formed(token: str) -> bool:
    """Whether ``token`` could be one of ours (the database is asked only then)."""
    return _SHAPE.fullmatch(token) is not None


def token_of(conn: Connection, order_seq: int) -> str | None:
    """The order's token, None when it has none yet."""
    c = tracking_tokens.c
    found = conn.execute(select(c.token).where(c.order_seq == order_seq)).scalar()
    return None if found is None else str(found)


def ensure_token(conn: Connection, order_seq: int, now: dt.datetime) -> str:
    """The order's token, made now when it has none (see the module's docstring)."""
    found = token_of(conn, order_seq)
    if found is not None:
        return found
    token = new_token()
    try:
        with conn.begin_nested():
            conn.execute(
                tracking_tokens.insert().values(token=token, order_seq=order_seq, created_at=now)
            )
    except IntegrityError:
        found = token_of(conn, order_seq)
        if found is None:  # not the order's unique key: a token collided (never in practice)
            raise
        return found
    return token


def order_of(conn: Connection, token: str) -> int | None:
    """The ``seq`` of the order whose token this is; None for an unknown or malformed one."""
    if not well_formed(token):
        return None
    c = tracking_tokens.c
    found = conn.execute(select(c.order_seq).where(c.token == token)).scalar()
    return None if found is None else int(found)
