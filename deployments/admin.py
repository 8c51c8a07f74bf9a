from django.contrib import admin, messages

from deployments.artifacts.models import Artifact
from deployments.drift.models import DriftCheck
from deployments.drills import admin as drills_admin  # noqa: F401  (registers the drills' admin)
from deployments.runs.models import Deployment, LogLine, Run, RunTransition
from deployments.sandboxes import admin as sandboxes_admin  # noqa: F401  (registers the sandboxes' admin)
from deployments.state import services as state_backend
from deployments.state.models import StateVersion
from portal.admin import ReadOnlyAdmin


@admin.register(Artifact)
class ArtifactAdmin(admin.ModelAdmin):
    list_display = ["project", "version", "sha256", "size", "uploaded_by", "uploaded_at"]
    list_filter = ["uploaded_at", "project__team"]
    search_fields = ["project__slug", "version", "sha256"]
    list_select_related = ["project", "uploaded_by"]
    readonly_fields = [f.name for f in Artifact._meta.fields]

    def has_add_permission(self, request):
        return False  # upload through the page or the API, where the checks run

    def has_change_permission(self, request, obj=None):
        return False  # immutable

    def has_delete_permission(self, request, obj=None):
        return False  # history: a version number is never reused, and old versions redeploy exactly


class TransitionInline(admin.TabularInline):
    model = RunTransition
    extra = 0
    can_delete = False
    readonly_fields = ["status", "at", "note"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Run)
class RunAdmin(ReadOnlyAdmin):
    list_display = ["id", "deployment", "operation", "artifact", "status", "requested_by", "created_at", "finished_at"]
    list_filter = ["status", "operation", "deployment__target", "created_at"]
    search_fields = ["id", "deployment__environment__gcp_project_id", "artifact__version", "requested_by__username"]
    list_select_related = ["deployment__environment", "artifact__project", "requested_by"]
    inlines = [TransitionInline]
    date_hierarchy = "created_at"


@admin.register(Deployment)
class DeploymentAdmin(admin.ModelAdmin):
    list_display = ["__str__", "deployed_artifact", "last_run", "lock_id", "locked_at"]
    list_filter = ["target", "environment__name"]
    search_fields = ["environment__gcp_project_id"]
    list_select_related = ["environment", "deployed_artifact__project", "last_run"]
    readonly_fields = [
        "environment",
        "target",
        "active_run",
        "last_run",
        "deployed_artifact",
        "lock_id",
        "lock_run",
        "lock_info",
        "locked_at",
    ]
    actions = ["force_unlock"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # its runs, logs and state versions are history

    @admin.action(description="Force-unlock the Terraform state (audited)")
    def force_unlock(self, request, queryset):
        for deployment in queryset:
            state_backend.state_force_unlock(deployment=deployment, user=request.user)
        messages.success(request, f"Released the state lock of {queryset.count()} deployment(s).")


@admin.register(StateVersion)
class StateVersionAdmin(ReadOnlyAdmin):
    list_display = ["deployment", "serial", "lineage", "sha256", "size", "run", "created_at"]
    list_filter = ["created_at"]
    search_fields = ["deployment__environment__gcp_project_id", "lineage", "sha256"]
    list_select_related = ["deployment__environment", "run"]
    exclude = ["data"]


@admin.register(LogLine)
class LogLineAdmin(ReadOnlyAdmin):
    list_display = ["run", "seq", "at", "level", "type", "message"]
    list_filter = ["level", "type"]
    search_fields = ["message", "run__id"]
    list_select_related = ["run"]


@admin.register(DriftCheck)
class DriftCheckAdmin(ReadOnlyAdmin):
    list_display = ["id", "deployment", "artifact", "status", "outcome", "drifted_count", "requested_by", "finished_at"]
    list_filter = ["status", "outcome", "deployment__target", "created_at"]
    search_fields = ["id", "deployment__environment__gcp_project_id", "artifact__version"]
    list_select_related = ["deployment__environment", "artifact__project", "requested_by"]
    date_hierarchy = "created_at"
