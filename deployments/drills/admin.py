"""Recovery drills in Django admin: read-only history."""

from django.contrib import admin

from deployments.drills.models import RecoveryDrill, RecoveryDrillEnvironment
from portal.admin import ReadOnlyAdmin


class DrillEnvironmentInline(admin.TabularInline):
    model = RecoveryDrillEnvironment
    extra = 0
    can_delete = False
    fields = ["deployment", "artifact", "status", "seconds", "parity", "differences", "error"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(RecoveryDrill)
class RecoveryDrillAdmin(ReadOnlyAdmin):
    list_display = ["id", "scope", "status", "started_by", "created_at", "finished_at"]
    list_filter = ["status", "created_at"]
    list_select_related = ["project", "started_by"]
    inlines = [DrillEnvironmentInline]


@admin.register(RecoveryDrillEnvironment)
class RecoveryDrillEnvironmentAdmin(ReadOnlyAdmin):
    list_display = ["drill", "deployment", "artifact", "status", "seconds", "parity"]
    list_filter = ["status", "parity"]
    list_select_related = ["deployment__environment", "artifact__project"]
