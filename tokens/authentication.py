"""`Authorization: Token <key>` for the API: knox's hashed lookup, with answers that say why a key
no longer works (expired, revoked) and the time it was last used."""

from __future__ import annotations

import binascii
from datetime import timedelta
from hmac import compare_digest

from django.utils import timezone
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from knox.settings import CONSTANTS
from rest_framework import exceptions

from onboarding.access import CI_TOKEN_ATTRIBUTE
from tokens.models import ApiToken, Kind

# last_used_at is written at most this often per token, not on every request.
LAST_USED_RESOLUTION = timedelta(seconds=60)
NO_SUCH_TOKEN = (
    "Invalid token: Hangar knows no such token. Create one on your profile's Tokens page (/profile/tokens/)."
)


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z")


class HangarTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, token: bytes):
        try:
            key = token.decode("utf-8")
            digest = hash_token(key)
        except (UnicodeDecodeError, TypeError, binascii.Error):
            raise exceptions.AuthenticationFailed(NO_SUCH_TOKEN) from None
        found = None
        for candidate in ApiToken.objects.filter(token_key=key[: CONSTANTS.TOKEN_KEY_LENGTH]).select_related(
            "user", "project__team", "revoked_by"
        ):
            if compare_digest(digest, candidate.digest):
                found = candidate
                break
        if found is None:
            raise exceptions.AuthenticationFailed(NO_SUCH_TOKEN)
        where = "the project's Details tab" if found.kind == Kind.PROJECT else "your profile's Tokens page"
        if found.revoked_at:
            by = f" by {found.revoked_by.get_username()}" if found.revoked_by else ""
            raise exceptions.AuthenticationFailed(
                f"This token ('{found.name}') was revoked on {_when(found.revoked_at)}{by}; create a new one on {where}."
            )
        if found.is_expired:
            raise exceptions.AuthenticationFailed(
                f"This token ('{found.name}') expired on {_when(found.expiry)}; create a new one on {where}."
            )
        if not found.user.is_active:
            raise exceptions.AuthenticationFailed("The account this token belongs to is deactivated.")
        now = timezone.now()
        if found.last_used_at is None or now - found.last_used_at >= LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
            found.last_used_at = now
        # Access checks read the token from the user: a CI token's scope is known without another query.
        setattr(found.user, CI_TOKEN_ATTRIBUTE, found if found.kind == Kind.PROJECT else None)
        return found.user, found
