"""Standard Webhooks signing and verification."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from midway.webhooks.signing import (
    WebhookVerificationError,
    generate_secret,
    secret_key,
    sign,
    verify,
)

SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()
MSG_ID = "evt_0123456789abcdef0123"
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
TS = int(NOW.timestamp())
BODY = b'{"id":"evt_0123456789abcdef0123","type":"task.created","data":{"n":1}}'


def _headers(signature: str, *, msg_id: str = MSG_ID, ts: int | str = TS) -> dict[str, str]:
    return {"webhook-id": msg_id, "webhook-timestamp": str(ts), "webhook-signature": signature}


def test_known_answer_computed_independently():
    key = bytes(range(32))
    mac = hmac.new(key, f"{MSG_ID}.{TS}.".encode() + BODY, hashlib.sha256).digest()
    expected = "v1," + base64.b64encode(mac).decode()
    assert sign(SECRET, MSG_ID, TS, BODY) == expected


def test_standard_webhooks_published_vector():
    signature = sign(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        b'{"test": 2432232314}',
    )
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_generated_secrets_have_the_whsec_form_and_differ():
    first, second = generate_secret(), generate_secret()
    assert first.startswith("whsec_")
    assert len(secret_key(first)) == 32
    assert first != second
    assert len(secret_key(generate_secret(24))) == 24
    assert len(secret_key(generate_secret(64))) == 64
    with pytest.raises(ValueError, match="between"):
        generate_secret(8)


def test_secret_without_prefix_is_the_same_key():
    assert secret_key(SECRET.removeprefix("whsec_")) == secret_key(SECRET)


def test_malformed_secret_is_rejected():
    with pytest.raises(ValueError, match="base64"):
        sign("whsec_not base64!", MSG_ID, TS, BODY)


def test_verify_accepts_a_genuine_message_with_any_header_case():
    signature = sign(SECRET, MSG_ID, TS, BODY)
    verify(SECRET, _headers(signature), BODY, now=NOW)
    upper = {k.title(): v for k, v in _headers(signature).items()}
    verify(SECRET, upper, BODY, now=NOW + timedelta(minutes=4))


def test_verify_accepts_one_match_among_several_signatures():
    other = sign(generate_secret(), MSG_ID, TS, BODY)
    good = sign(SECRET, MSG_ID, TS, BODY)
    verify(SECRET, _headers(f"v1a,ignored {other} {good}"), BODY, now=NOW)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_verify_rejects_missing_headers(missing):
    headers = _headers(sign(SECRET, MSG_ID, TS, BODY))
    del headers[missing]
    with pytest.raises(WebhookVerificationError, match=missing):
        verify(SECRET, headers, BODY, now=NOW)


def test_verify_rejects_a_timestamp_that_is_not_a_number():
    with pytest.raises(WebhookVerificationError, match="unix seconds"):
        verify(SECRET, _headers(sign(SECRET, MSG_ID, TS, BODY), ts="yesterday"), BODY, now=NOW)


@pytest.mark.parametrize("offset", [timedelta(minutes=6), -timedelta(minutes=6)])
def test_verify_rejects_stale_and_future_timestamps(offset):
    headers = _headers(sign(SECRET, MSG_ID, TS, BODY))
    with pytest.raises(WebhookVerificationError, match="tolerance"):
        verify(SECRET, headers, BODY, now=NOW + offset)
    verify(SECRET, headers, BODY, now=NOW + offset, tolerance=timedelta(minutes=10))


def test_verify_rejects_a_tampered_body_id_or_timestamp():
    signature = sign(SECRET, MSG_ID, TS, BODY)
    with pytest.raises(WebhookVerificationError, match="no matching signature"):
        verify(SECRET, _headers(signature), BODY + b" ", now=NOW)
    with pytest.raises(WebhookVerificationError, match="no matching signature"):
        verify(SECRET, _headers(signature, msg_id="evt_other"), BODY, now=NOW)
    with pytest.raises(WebhookVerificationError, match="no matching signature"):
        verify(SECRET, _headers(signature, ts=TS + 1), BODY, now=NOW)


def test_verify_rejects_another_secret_and_unversioned_signatures():
    signature = sign(SECRET, MSG_ID, TS, BODY)
    with pytest.raises(WebhookVerificationError, match="no matching signature"):
        verify(generate_secret(), _headers(signature), BODY, now=NOW)
    bare = signature.removeprefix("v1,")
    with pytest.raises(WebhookVerificationError, match="no matching signature"):
        verify(SECRET, _headers(bare), BODY, now=NOW)
    with pytest.raises(WebhookVerificationError, match="no matching signature"):
        verify(SECRET, _headers(""), BODY, now=NOW)


def test_verify_reports_a_malformed_secret_as_a_verification_error():
    with pytest.raises(WebhookVerificationError, match="base64"):
        verify("whsec_%%%", _headers("v1,abc"), BODY, now=NOW)


@given(body=st.binary(max_size=2048), msg_id=st.text(min_size=1, max_size=40))
def test_any_signed_message_verifies_and_a_flipped_byte_does_not(body, msg_id):
    signature = sign(SECRET, msg_id, TS, body)
    verify(SECRET, _headers(signature, msg_id=msg_id), body, now=NOW)
    tampered = body + b"x" if not body else bytes([body[0] ^ 1]) + body[1:]
    with pytest.raises(WebhookVerificationError):
        verify(SECRET, _headers(signature, msg_id=msg_id), tampered, now=NOW)
