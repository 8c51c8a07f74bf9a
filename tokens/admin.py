from django.contrib import admin, messages
from knox import models as knox_models

from portal.admin import ReadOnlyAdmin
from tokens.models import ApiToken
from tokens.services import revoke_token

# knox registers its own model, which Hangar swaps for tokens.ApiToken.
if admin.site.is_registered(knox_models.AuthToken):
    admin.site.unregister(knox_models.AuthToken)


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    """Tokens are created on the profile's Tokens page, a project's Details tab or with
    `manage.py create_token`; here admins see them all and may revoke them (audited)."""

    list_display = ["name", "kind", "user", "project", "role", "created", "expiry", "last_used_at", "revoked_at"]
    list_filter = ["kind", "role", "created", "expiry", "revoked_at"]
    search_fields = ["name", "token_key", "user__username", "project__slug"]
    exclude = ["digest"]
    actions = ["revoke"]

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        count = sum(revoke_token(token=token, by=request.user) for token in queryset.select_related("project__team"))
        self.message_user(request, f"{count} token(s) revoked.", messages.SUCCESS)
