"""The signature of a webhook delivery: ``Routeplan-Signature: t=<unix>,v1=<hex>``, where
``<hex>`` is the HMAC-SHA256, keyed with the webhook's secret, of ``"<t>.<body>"`` (the unix
time of the try, a dot, then the exact bytes of the body).

A receiver recomputes it over the raw body and compares in constant time (:func:`verify`),
and refuses a ``t`` too far from its clock (a replayed old delivery).
"""

from __future__ import annotations

import hashlib
import hmac
import time

#: The header that carries the signature.
HEADER = "Routeplan-Signature"
#: The signature scheme's version tag in the header.
SCHEME = "v1"


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The header value that signs ``body`` sent at ``timestamp`` (unix seconds)."""
    return f"t={timestamp},{SCHEME}={_digest(secret, timestamp, body)}"


def verify(
    secret: str, header: str, body: bytes, tolerance_s: float = 300.0, now: float | None = None
) -> bool:
    """Whether ``header`` signs ``body`` with ``secret`` at a time within ``tolerance_s`` of
    ``now`` (unix seconds; the clock when None)."""
    fields: dict[str, list[str]] = {}
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if sep:
            fields.setdefault(key, []).append(value)
    stamps = fields.get("t", [])
    if len(stamps) != 1 or not stamps[0].isdigit():
        return False
    timestamp = int(stamps[0])
    clock = time.time() if now is None else now
    if abs(clock - timestamp) > tolerance_s:
        return False
    expected = _digest(secret, timestamp, body)
    return any(hmac.compare_digest(expected, given) for given in fields.get(SCHEME, []))
