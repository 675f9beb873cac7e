"""The HTTP side of a delivery: build the signed request, send it, read what came back.

Nothing here touches the database; the worker calls :func:`send` between the transaction that
leased the delivery and the one that records the result.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx

from midway import __version__
from midway.webhooks.service import AttemptResult, Claim
from midway.webhooks.signing import sign

USER_AGENT = f"Midway-Webhooks/{__version__}"
_ERROR_SNIPPET_BYTES = 300


def payload(claim: Claim) -> bytes:
    """The request body: the event as JSON, the same bytes on every attempt."""
    document = {
        "id": claim.event_id,
        "type": claim.event_type,
        "timestamp": claim.event_created_at.astimezone(UTC).isoformat(),
        "data": claim.data,
    }
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def headers(claim: Claim, body: bytes, now: datetime) -> dict[str, str]:
    """Standard Webhooks headers for one attempt at ``now``.

    ``webhook-id`` is the event id, identical on every retry and redelivery, so receivers can
    drop duplicates; the timestamp and signature are fresh per attempt.
    """
    timestamp = int(now.timestamp())
    return {
        "webhook-id": claim.event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(claim.secret, claim.event_id, timestamp, body),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


def _retry_after(response: httpx.Response) -> float | None:
    # Only delta-seconds; an HTTP-date form is ignored and the normal backoff applies.
    value = response.headers.get("retry-after", "").strip()
    return float(value) if value.isdigit() else None


def _snippet(response: httpx.Response) -> str:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= _ERROR_SNIPPET_BYTES:
            break
    text = b"".join(chunks)[:_ERROR_SNIPPET_BYTES].decode("utf-8", "replace").strip()
    return " ".join(text.split())


def send(client: httpx.Client, claim: Claim, *, now: datetime | None = None) -> AttemptResult:
    """POST one delivery and classify the outcome; never raises for network trouble.

    Redirects are not followed (a 3xx is a failure: the owner should register the final URL),
    and at most a short snippet of an error response is read.
    """
    body = payload(claim)
    request = client.build_request(
        "POST", claim.url, content=body, headers=headers(claim, body, now or datetime.now(UTC))
    )
    try:
        response = client.send(request, stream=True, follow_redirects=False)
    except httpx.TimeoutException as exc:
        return AttemptResult(error=f"timeout: {type(exc).__name__}")
    except (httpx.HTTPError, httpx.InvalidURL, OSError) as exc:
        return AttemptResult(error=f"{type(exc).__name__}: {exc}"[:500])
    try:
        code = response.status_code
        if 200 <= code < 300:
            return AttemptResult(status_code=code)
        try:
            snippet = _snippet(response)
        except httpx.HTTPError:
            snippet = ""
        error = f"HTTP {code}" + (f": {snippet}" if snippet else "")
        return AttemptResult(
            status_code=code, error=error, retry_after_seconds=_retry_after(response)
        )
    finally:
        response.close()
