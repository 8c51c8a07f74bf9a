"""Settings logic that depends on the environment."""

from portal.env import https_settings


def test_an_https_site_gets_secure_cookies_hsts_and_the_proxy_header():
    decided = https_settings("https://hangar.example.org", secure_cookies=False, hsts_seconds=31536000)
    assert decided == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
    }


def test_a_plain_http_site_gets_none_of_them_unless_cookies_are_asked_for():
    assert https_settings("http://127.0.0.1:8000", secure_cookies=False, hsts_seconds=31536000) == {
        "SESSION_COOKIE_SECURE": False,
        "CSRF_COOKIE_SECURE": False,
        "SECURE_HSTS_SECONDS": 0,
        "SECURE_PROXY_SSL_HEADER": None,
    }
    assert https_settings("http://x", secure_cookies=True, hsts_seconds=5)["SESSION_COOKIE_SECURE"] is True


def test_the_scheme_is_read_case_insensitively():
    assert https_settings("HTTPS://Hangar.example", secure_cookies=False, hsts_seconds=60)["SECURE_HSTS_SECONDS"] == 60


def test_settings_apply_the_decision(settings):
    from django.conf import settings as live

    assert live.SESSION_COOKIE_SECURE is (live.SITE_URL.startswith("https://") or live.SESSION_COOKIE_SECURE)
    assert live.CSRF_COOKIE_SECURE == live.SESSION_COOKIE_SECURE
