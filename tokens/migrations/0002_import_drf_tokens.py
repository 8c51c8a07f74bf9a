"""Existing DRF tokens (stored in clear by `rest_framework.authtoken`) become hashed tokens that
expire 90 days after this migration, so pipelines keep working while their owners replace them.
The clear keys are then deleted. See docs/api.md, "Tokens from before"."""

from datetime import timedelta

from django.db import migrations
from django.utils import timezone

IMPORTED_NAME = "API token from before hashed tokens"
GRACE = timedelta(days=90)


def import_drf_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if "authtoken_token" not in connection.introspection.table_names():
        return
    from knox.crypto import hash_token
    from knox.settings import CONSTANTS

    ApiToken = apps.get_model("tokens", "ApiToken")
    with connection.cursor() as cursor:
        cursor.execute("SELECT key, user_id FROM authtoken_token")
        rows = cursor.fetchall()
    expiry = timezone.now() + GRACE
    ApiToken.objects.bulk_create(
        ApiToken(
            digest=hash_token(key),
            token_key=key[: CONSTANTS.TOKEN_KEY_LENGTH],
            user_id=user_id,
            expiry=expiry,
            name=IMPORTED_NAME,
            kind="personal",
            created_by_id=user_id,
        )
        for key, user_id in rows
    )
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM authtoken_token")
    if rows:
        print(
            f"\n  Hangar: {len(rows)} API token(s) now stored hashed; they expire on {expiry:%Y-%m-%d}. "
            "Owners should replace them on their profile's Tokens page (docs/api.md)."
        )


class Migration(migrations.Migration):
    dependencies = [("tokens", "0001_initial")]

    operations = [migrations.RunPython(import_drf_tokens, migrations.RunPython.noop)]
