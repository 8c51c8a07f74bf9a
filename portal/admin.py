from django.contrib import admin
from django.utils.html import format_html

from portal.models import AuditEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    """History must not change: visible to admins, editable by no one. Changes go
    through Hangar's own pages and services, where the rules and the audit apply."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def hangar_link(obj, label: str = "Open in Hangar") -> str:
    """A link from an admin row to the object's own page, where it can be changed."""
    return format_html('<a href="{}">{}</a>', obj.get_absolute_url(), label)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The audit trail is append-only."""

    list_display = ["created_at", "actor_name", "action", "object_type", "object_repr"]
    list_filter = ["action", "object_type", "created_at"]
    search_fields = ["actor_name", "action", "object_repr", "object_id"]
    date_hierarchy = "created_at"
