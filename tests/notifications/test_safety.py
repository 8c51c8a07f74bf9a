"""Webhook addresses: only http(s), no credentials, and by default never private, loopback or link-local
addresses, checked when saved and again when sent (to the very address that was checked)."""

import socket

import pytest
from django.core.exceptions import ValidationError

from notifications import addresses, crypto, payloads, services
from notifications.models import Delivery, Destination
from notifications.tasks import deliver

pytestmark = pytest.mark.django_db

REAL_GETADDRINFO = socket.getaddrinfo


def resolving(monkeypatch, table: dict[str, str]):
    """Names of this test resolve as `table` says (the rest as usual)."""

    def fake(host, port, *args, **kwargs):
        if host in table:
            family = socket.AF_INET6 if ":" in table[host] else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (table[host], port))]
        return REAL_GETADDRINFO(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)


def create(project, lead, url, **extra):
    return services.destination_create(user=lead, project=project, kind="webhook", name="hook",
                                       events=["run.failed"], url=url, **extra)  # fmt: skip


@pytest.mark.parametrize(
    ("url", "refusal"),
    [
        ("http://127.0.0.1:8000/hook", "a loopback address"),
        ("http://localhost/hook", "a loopback address"),
        ("http://[::1]/hook", "a loopback address"),
        ("http://10.1.2.3/hook", "a private address"),
        ("https://192.168.0.10/hook", "a private address"),
        ("http://172.16.5.4/hook", "a private address"),
        ("http://169.254.169.254/latest/meta-data/", "a link-local address"),
        ("http://[::ffff:127.0.0.1]/hook", "a loopback address"),
        ("http://0.0.0.0/hook", "a reserved address"),
        ("http://224.0.0.1/hook", "a multicast address"),
        ("http://100.64.0.1/hook", "a private address"),
    ],
)
def test_private_loopback_and_link_local_addresses_are_refused(project, lead, url, refusal):
    with pytest.raises(ValidationError) as caught:
        create(project, lead, url)
    assert refusal in str(caught.value) and "WEBHOOK_ALLOW_PRIVATE=true" in str(caught.value)
    assert not Destination.objects.exists()


def test_a_name_that_resolves_to_a_private_address_is_refused(project, lead, monkeypatch):
    resolving(monkeypatch, {"hooks.internal.test": "10.0.0.7"})
    with pytest.raises(ValidationError, match=r"hooks\.internal\.test resolves to 10\.0\.0\.7, a private address"):
        create(project, lead, "https://hooks.internal.test/x")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/x", "Only http:// and https://"),
        ("file:///etc/passwd", "Only http:// and https://"),
        ("https://user:pw@example.com/x", "no user name or password"),
        ("https:///x", "no host"),
        ("", "Give an http or https address"),
        ("https://example.com/x y", "spaces"),
    ],
)
def test_malformed_addresses_are_refused(project, lead, url, message):
    with pytest.raises(ValidationError, match=message):
        create(project, lead, url)


def test_private_addresses_are_allowed_when_configured(project, lead, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    saved = create(project, lead, "http://127.0.0.1:9/hook?token=abc")
    assert saved.destination.url_display == "http://127.0.0.1:9/…"  # the path (a token, maybe) is not shown
    assert crypto.decrypt(saved.destination.url_encrypted) == "http://127.0.0.1:9/hook?token=abc"


def test_the_public_address_checked_at_save_is_checked_again_at_delivery(project, lead, monkeypatch, receiver,
                                                                          deliver_inline, settings):  # fmt: skip
    settings.WEBHOOK_ALLOW_PRIVATE = False
    port = receiver.url.split(":")[2].split("/")[0]
    resolving(monkeypatch, {"hooks.example.test": "93.184.216.34"})
    saved = create(project, lead, f"http://hooks.example.test:{port}/hook")
    resolving(monkeypatch, {"hooks.example.test": "127.0.0.1"})  # DNS rebinding: now it points inside
    delivery = services._queue(saved.destination, payloads.test_event(saved.destination, lead))
    deliver.apply(args=[delivery.pk])
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED and delivery.attempts == 1  # refused: not retried
    attempt = delivery.attempt_log.get()
    assert attempt.error.startswith("refused: hooks.example.test resolves to 127.0.0.1, a loopback address")
    assert receiver.requests == []


def test_a_delivery_connects_to_the_address_it_checked_and_names_the_host(project, lead, monkeypatch, receiver,
                                                                          deliver_inline):  # fmt: skip
    port = receiver.url.split(":")[2].split("/")[0]
    resolving(monkeypatch, {"hooks.example.test": "127.0.0.1"})
    saved = create(project, lead, f"http://hooks.example.test:{port}/hook")
    delivery = services._queue(saved.destination, payloads.test_event(saved.destination, lead))
    deliver.apply(args=[delivery.pk])
    [received] = receiver.requests
    assert received.headers["host"] == f"hooks.example.test:{port}"


def test_a_slow_receiver_times_out_quickly(project, lead, settings, deliver_inline):
    """A server that accepts the connection and never answers: the attempt ends after WEBHOOK_TIMEOUT."""
    settings.WEBHOOK_TIMEOUT = 0.5
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    try:
        saved = create(project, lead, f"http://127.0.0.1:{silent.getsockname()[1]}/hook")
        delivery = services._queue(saved.destination, payloads.test_event(saved.destination, lead))
        deliver.apply(args=[delivery.pk])
    finally:
        silent.close()
    attempt = delivery.attempt_log.get()
    assert attempt.status_code is None and "no answer within 0.5 s" in attempt.error
    assert attempt.latency_ms < 5000


def test_addresses_display_hides_paths():
    assert addresses.display("https://chat.example.com/services/T000/B000/XXXX") == "https://chat.example.com/…"
    assert addresses.display("https://chat.example.com") == "https://chat.example.com/"
