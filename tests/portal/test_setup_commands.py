import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from portal.env import env_bool, env_int


def test_ensure_admin_creates_one_admin_and_says_how_to_log_in(db, settings, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)
    settings.VAR_DIR = tmp_path
    call_command("ensure_admin")
    out = capsys.readouterr().out
    password = (tmp_path / "initial-admin-password").read_text().strip()
    assert "username 'admin'" in out and password in out
    assert get_user_model().objects.get(username="admin").check_password(password)
    call_command("ensure_admin")
    assert get_user_model().objects.filter(is_superuser=True).count() == 1


def test_ensure_admin_honours_djangos_superuser_variables(db, settings, tmp_path, monkeypatch):
    settings.VAR_DIR = tmp_path
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "ops")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "s3cret-pass-word")
    call_command("ensure_admin")
    assert get_user_model().objects.get(username="ops").check_password("s3cret-pass-word")
    assert not (tmp_path / "initial-admin-password").exists()


def test_env_helpers_fail_loudly_on_bad_values(monkeypatch):
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="not a boolean"):
        env_bool("X_FLAG")
    monkeypatch.setenv("X_NUM", "ten")
    with pytest.raises(ImproperlyConfigured, match="not a whole number"):
        env_int("X_NUM", 1)


def test_healthz_answers_without_login(client, db):
    assert client.get("/healthz").json() == {"status": "ok"}
