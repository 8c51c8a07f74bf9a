"""Read settings from environment variables, failing loudly on a bad value."""

import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use one of: true, false, 1, 0, yes, no, on, off")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def https_settings(site_url: str, *, secure_cookies: bool, hsts_seconds: int) -> dict:
    """Django's transport-security settings for a site served at `site_url`.

    Behind an https address, Hangar runs behind a proxy that terminates TLS: cookies are sent
    over https only, browsers are told to keep to https (HSTS), and the proxy's
    X-Forwarded-Proto says whether a request came in over https."""
    https = site_url.lower().startswith("https://")
    return {
        "SESSION_COOKIE_SECURE": https or secure_cookies,
        "CSRF_COOKIE_SECURE": https or secure_cookies,
        "SECURE_HSTS_SECONDS": hsts_seconds if https else 0,
        "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https") if https else None,
    }


def secret_key(*, environ_value: str, key_file, debug: bool) -> str:
    """SECRET_KEY from the environment, else the machine's key file that `make setup` keeps
    (HANGAR_VAR_DIR/secret-key), else a development key when DEBUG is on; otherwise a clear error."""
    if environ_value:
        return environ_value
    try:
        kept = key_file.read_text().strip()
    except FileNotFoundError:
        kept = ""
    if kept:
        return kept
    if debug:
        return "insecure-development-key-do-not-use-in-production"
    raise ImproperlyConfigured(
        f"SECRET_KEY is required when DEBUG is off, and {key_file} does not exist or is empty. Run `make setup` "
        "(it keeps a machine-local key there), set SECRET_KEY to a long random string, or set DEBUG=true on a "
        "development machine."
    )
