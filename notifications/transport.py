"""Sending one webhook: a POST of the JSON body, signed, to the address checked by `addresses.resolve`.

urllib3 connects to that IP address itself while the request (Host header, TLS server name and certificate
check) still names the host: what was checked is what is called. No redirects are followed and nothing is
retried here (the delivery task retries with backoff); the timeout is short (WEBHOOK_TIMEOUT)."""

import hashlib
import hmac
import time
from dataclasses import dataclass

import urllib3
from django.conf import settings

from notifications.addresses import Target

SIGNATURE_HEADER = "X-Hangar-Signature"
RESPONSE_START = 500
USER_AGENT = "Hangar-Notifications/1"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The header's value: `t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the secret>`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    latency_ms: int
    response_start: str
    error: str

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def retryable(self) -> bool:
        """Worth another attempt: no answer (network, timeout), a server error, or "too many requests"."""
        if self.status_code is None:
            return True
        return self.status_code >= 500 or self.status_code in (408, 429)


def post(target: Target, body: bytes, *, secret: str, headers: dict[str, str]) -> Answer:
    timestamp = int(time.time())
    default_port = 443 if target.scheme == "https" else 80
    host_header = (f"[{target.host}]" if ":" in target.host else target.host) + (
        "" if target.port == default_port else f":{target.port}"
    )
    all_headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Host": host_header,
        **headers,
    }
    if secret:
        all_headers[SIGNATURE_HEADER] = signature(secret, timestamp, body)
    timeout = urllib3.Timeout(connect=settings.WEBHOOK_TIMEOUT, read=settings.WEBHOOK_TIMEOUT)
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            target.address, target.port, timeout=timeout, retries=False, maxsize=1,
            server_hostname=target.host, assert_hostname=target.host, cert_reqs="CERT_REQUIRED",
        )  # fmt: skip
    else:
        pool = urllib3.HTTPConnectionPool(target.address, target.port, timeout=timeout, retries=False, maxsize=1)
    started = time.monotonic()
    try:
        response = pool.urlopen(
            "POST", target.path, body=body, headers=all_headers, redirect=False, retries=False,
            preload_content=False, assert_same_host=False,
        )  # fmt: skip
        try:
            start = response.read(RESPONSE_START, decode_content=True) or b""
        finally:
            response.release_conn()
        latency = int((time.monotonic() - started) * 1000)
        return Answer(response.status, latency, start.decode("utf-8", "replace")[:RESPONSE_START], "")
    except urllib3.exceptions.HTTPError as error:
        latency = int((time.monotonic() - started) * 1000)
        return Answer(None, latency, "", _reason(error))
    finally:
        pool.close()


def _reason(error: Exception) -> str:
    if isinstance(error, urllib3.exceptions.TimeoutError):
        return f"no answer within {settings.WEBHOOK_TIMEOUT:g} s (WEBHOOK_TIMEOUT)"
    reason = getattr(error, "reason", None) or error
    return f"{type(reason).__name__}: {reason}"[:500]
