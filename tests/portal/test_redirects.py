"""`next` sends the browser back to this site only (login, and every view that reads a redirect target)."""

import pytest
from django.test import RequestFactory
from django.urls import reverse

from portal.redirects import safe_next
from tests.conftest import PASSWORD

EVIL = ["https://evil.example/", "//evil.example/x", "/\\evil.example", "https:evil.example", "\\\\evil.example"]


@pytest.mark.parametrize("target", EVIL)
def test_login_ignores_a_next_leading_off_site(client, lead, target):
    response = client.post(
        f"{reverse('login')}?next={target}", {"username": "alice", "password": PASSWORD, "next": target}
    )
    assert response.status_code == 302
    assert response.url == reverse("home")


def test_login_follows_a_next_on_this_site(client, lead):
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD, "next": "/teams/"})
    assert response.url == "/teams/"


@pytest.mark.parametrize("target", EVIL)
def test_safe_next_refuses_other_sites(target):
    request = RequestFactory().post("/x", {"next": target})
    assert safe_next(request, "/fallback/") == "/fallback/"


def test_safe_next_keeps_a_local_path():
    request = RequestFactory().post("/x", {"next": "/projects/sc-1-x/"})
    assert safe_next(request, "/fallback/") == "/projects/sc-1-x/"


def test_every_view_reading_next_goes_through_safe_next():
    """A redirect built straight from request data is an open redirect."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    pattern = re.compile(r"redirect\(\s*request\.(POST|GET|META)")
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for package in ("portal", "onboarding", "deployments")
        for path in (root / package).rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []
