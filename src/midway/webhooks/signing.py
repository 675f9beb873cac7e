"""Standard Webhooks signatures: how Midway signs a delivery and how a receiver checks it.

A message is signed as ``HMAC-SHA256(key, f"{webhook_id}.{webhook_timestamp}.{body}")`` and
sent as ``webhook-signature: v1,<base64 digest>``. The secret is shown to the endpoint's owner
as ``whsec_<base64 of the key>``. See https://www.standardwebhooks.com/.

This module has no dependency on the rest of Midway so that receivers can copy it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

SECRET_PREFIX = "whsec_"
SIGNATURE_VERSION = "v1"
DEFAULT_TOLERANCE = timedelta(minutes=5)
_MIN_KEY_BYTES = 24
_MAX_KEY_BYTES = 64


class WebhookVerificationError(Exception):
    """A delivery that must not be trusted: headers missing, stale, or signed with another key."""


def generate_secret(key_bytes: int = 32) -> str:
    """A new random endpoint secret, ``whsec_`` followed by the base64 of ``key_bytes`` bytes."""
    if not _MIN_KEY_BYTES <= key_bytes <= _MAX_KEY_BYTES:
        raise ValueError(f"key_bytes must be between {_MIN_KEY_BYTES} and {_MAX_KEY_BYTES}")
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(key_bytes)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key inside a ``whsec_…`` secret (the prefix is optional, as in the spec)."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("webhook secret is not valid base64 after 'whsec_'") from None
    if not key:
        raise ValueError("webhook secret is empty")
    return key


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value (``v1,<base64>``) for one message attempt."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def _header(headers: Mapping[str, str], name: str) -> str:
    # HTTP header names are case-insensitive; receivers pass whatever mapping their framework has.
    for key, value in headers.items():
        if key.lower() == name:
            return value
    raise WebhookVerificationError(f"missing header {name}")


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance: timedelta = DEFAULT_TOLERANCE,
    now: datetime | None = None,
) -> None:
    """Check a received webhook; raise :class:`WebhookVerificationError` unless it is genuine.

    ``body`` must be the raw bytes received, before any JSON parsing. The timestamp must be
    within ``tolerance`` of ``now`` (either way), which bounds replays of captured requests.
    The signature header may carry several space-separated signatures (during a secret
    rotation); one matching ``v1`` signature is enough.
    """
    msg_id = _header(headers, "webhook-id")
    raw_timestamp = _header(headers, "webhook-timestamp")
    signatures = _header(headers, "webhook-signature")
    try:
        timestamp = int(raw_timestamp)
    except ValueError:
        raise WebhookVerificationError("webhook-timestamp is not unix seconds") from None
    current = (now or datetime.now(UTC)).timestamp()
    if abs(current - timestamp) > tolerance.total_seconds():
        raise WebhookVerificationError("webhook-timestamp is outside the tolerance")
    try:
        expected = sign(secret, msg_id, timestamp, body).encode("ascii")
    except ValueError as exc:
        raise WebhookVerificationError(str(exc)) from None
    matched = False
    for candidate in signatures.split():
        # Compare every v1 entry without stopping early so timing says nothing about which one.
        if candidate.startswith(SIGNATURE_VERSION + ","):
            matched |= hmac.compare_digest(candidate.encode("ascii", "replace"), expected)
    if not matched:
        raise WebhookVerificationError("no matching signature")
