"""Which addresses a webhook may be sent to (no server-side request forgery).

An address must be http or https, carry no user name or password, and its host must resolve to public
addresses only: private, loopback, link-local (cloud metadata, 169.254.169.254), multicast, reserved and
unspecified addresses are refused, unless WEBHOOK_ALLOW_PRIVATE is on (tests, chat on the premises). The check
runs when a destination is saved and again at every delivery, whose connection then goes to the very address
that was checked (a name that resolves differently a second later, DNS rebinding, gains nothing)."""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

MAX_LENGTH = 2000


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as written (the Host header, TLS server name)
    port: int
    path: str  # path and query
    address: str  # the checked IP address to connect to


def parse(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path with query) of an acceptable URL, else ValidationError."""
    url = (url or "").strip()
    if not url or len(url) > MAX_LENGTH:
        raise ValidationError(f"Give an http or https address of at most {MAX_LENGTH} characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise ValidationError(f"Not a valid address: {error}.") from None
    if parts.scheme not in ("http", "https"):
        raise ValidationError("Only http:// and https:// addresses can receive webhooks.")
    if not parts.hostname:
        raise ValidationError("The address has no host.")
    if parts.username is not None or parts.password is not None:
        raise ValidationError("Put no user name or password in the address; the payload is signed instead.")
    if parts.fragment:
        raise ValidationError("The address may not have a #fragment.")
    if any(ord(ch) < 33 for ch in url):
        raise ValidationError("The address may not contain spaces or control characters.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path


def refusal(address: str) -> str | None:
    """Why an IP address may not receive webhooks, or None."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address (such as the cloud metadata service)"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_unspecified or ip.is_reserved:
        return "a reserved address"
    if ip.is_private or not ip.is_global:
        return "a private address"
    return None


def resolve(url: str) -> Target:
    """Check `url` and resolve its host to an address that may receive webhooks (ValidationError if none)."""
    scheme, host, port, path = parse(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise ValidationError(f"{host} cannot be resolved ({error}).") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise ValidationError(f"{host} resolves to no address.")
    if not settings.WEBHOOK_ALLOW_PRIVATE:
        for address in addresses:
            why = refusal(address)
            if why:
                raise ValidationError(
                    f"{host} resolves to {address}, {why}: Hangar does not send webhooks there "
                    "(WEBHOOK_ALLOW_PRIVATE=true allows it)."
                )
    return Target(scheme=scheme, host=host, port=port, path=path, address=addresses[0])


def display(url: str) -> str:
    """What pages show of an address: scheme, host and port; the path (which may hold a token) is elided."""
    scheme, host, port, path = parse(url)
    default = 443 if scheme == "https" else 80
    netloc = f"[{host}]" if ":" in host else host
    return f"{scheme}://{netloc}{'' if port == default else f':{port}'}/" + ("…" if path not in ("", "/") else "")
