"""Destination secrets (the signing secret, a chat address) are kept encrypted with a key derived from
SECRET_KEY (Fernet: AES-128-CBC with an HMAC-SHA256 tag). Signing needs the secret itself, so a hash cannot
do; rotating SECRET_KEY makes them unreadable, and each destination then needs a new secret and address."""

import base64
import hashlib
import secrets

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

PREFIX = "whsec_"


def _fernet() -> Fernet:
    digest = hashlib.sha256(b"hangar.notifications.v1:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(text: str) -> str:
    return _fernet().encrypt(text.encode()).decode() if text else ""


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError("cannot decrypt: SECRET_KEY changed since it was stored; set a new one") from None


def new_secret() -> str:
    return PREFIX + secrets.token_urlsafe(32)
