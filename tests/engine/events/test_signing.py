"""The delivery signature, checked against an HMAC-SHA256 written out here."""

from __future__ import annotations

import hashlib
import hmac

from engine.events.signing import sign, verify

SECRET = "whsec-0123456789abcdef"
BODY = b'{"data":{"order_id":"1001"},"id":"e-1","type":"order.created"}'


def expected_header(secret: str, timestamp: int, body: bytes) -> str:
    """``t=<t>,v1=<hex>`` computed independently of the code under test."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def test_the_signature_is_hmac_sha256_of_time_dot_body() -> None:
    assert sign(SECRET, 1_764_000_000, BODY) == expected_header(SECRET, 1_764_000_000, BODY)


def test_a_known_vector() -> None:
    # HMAC-SHA256(key="key", msg="1.{}") as `printf '1.{}' | openssl dgst -sha256 -hmac key`
    # prints it.
    digest = "1ba6b8171186efc613e8bcc0cbdab2748f24984d7c5a84faa2637afa0e40d224"
    assert sign("key", 1, b"{}") == f"t=1,v1={digest}"


def test_verify_accepts_a_good_signature_within_the_tolerance() -> None:
    header = expected_header(SECRET, 1000, BODY)
    assert verify(SECRET, header, BODY, tolerance_s=300, now=1200)


def test_verify_refuses_what_does_not_match() -> None:
    header = expected_header(SECRET, 1000, BODY)
    assert not verify(SECRET, header, BODY + b" ", tolerance_s=300, now=1000)  # body changed
    assert not verify("another-secret-0123", header, BODY, tolerance_s=300, now=1000)
    assert not verify(SECRET, header, BODY, tolerance_s=300, now=1301)  # too old: a replay
    assert not verify(SECRET, header.replace("t=1000", "t=1001"), BODY, now=1000)
    assert not verify(SECRET, "v1=abc", BODY, now=1000)  # no time
    assert not verify(SECRET, "t=x,v1=abc", BODY, now=1000)
    assert not verify(SECRET, "", BODY, now=1000)


def test_verify_accepts_one_good_signature_among_several() -> None:
    good = expected_header(SECRET, 1000, BODY)
    header = f"t=1000,v1={'0' * 64},{good.split(',')[1]}"
    assert verify(SECRET, header, BODY, now=1000)
