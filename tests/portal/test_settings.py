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


def _manage_check(env: dict, tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    base = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE")}
    base.update({"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "CELERY_BROKER_URL": "memory://", **env})
    return subprocess.run(
        [sys.executable, str(root / "manage.py"), "check"],
        cwd=root,
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_manage_py_reads_the_secret_key_that_setup_keeps(tmp_path):
    var = tmp_path / "var"
    var.mkdir()
    (var / "secret-key").write_text("a-key-kept-by-make-setup-" + "x" * 40 + "\n")
    result = _manage_check({"HANGAR_VAR_DIR": str(var)}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_without_secret_key_or_its_file_the_error_says_what_to_do(tmp_path):
    var = tmp_path / "var"
    var.mkdir()
    result = _manage_check({"HANGAR_VAR_DIR": str(var)}, tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr
    assert str(var / "secret-key") in result.stderr and "make setup" in result.stderr


def test_secret_key_from_the_environment_wins(tmp_path):
    from portal.env import secret_key

    (tmp_path / "secret-key").write_text("from-file\n")
    assert secret_key(environ_value="from-env", key_file=tmp_path / "secret-key", debug=False) == "from-env"
    assert secret_key(environ_value="", key_file=tmp_path / "secret-key", debug=False) == "from-file"
