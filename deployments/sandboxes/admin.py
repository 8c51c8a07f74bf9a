"""Sandboxes in Django admin: read-only, as history."""

from django.contrib import admin

from deployments.sandboxes.models import Sandbox


@admin.register(Sandbox)
class SandboxAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "environment", "owner", "artifact", "expires_at", "destroy_failed", "destroyed_at"]
    list_filter = ["destroy_failed", "destroyed_at"]
    search_fields = ["environment__gcp_project_id", "project__slug", "owner__username"]
    list_select_related = ["project", "environment", "owner", "artifact"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
