from django.contrib import admin

from onboarding.models import Environment, Membership, Project, Team
from onboarding.shared_composer.models import SharedChange, SharedDagDeploy, SharedMembership
from portal.admin import ReadOnlyAdmin


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug", "memberships__user__username"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "team", "role", "created_at"]
    list_filter = ["role", "team"]
    search_fields = ["user__username", "team__name"]
    autocomplete_fields = ["user", "team"]


class EnvironmentInline(admin.TabularInline):
    model = Environment
    extra = 0
    readonly_fields = ["name", "gcp_project_id"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["slug", "service_control_id", "name", "team", "created_by", "created_at"]
    list_filter = ["team", "created_at"]
    search_fields = ["slug", "name", "service_control_id", "team__name"]
    readonly_fields = ["slug", "service_control_id", "name", "created_by", "created_at"]
    list_select_related = ["team", "created_by"]
    inlines = [EnvironmentInline]

    def has_add_permission(self, request):
        # Registration goes through the wizard or the API so the naming rules and audit apply.
        return False


@admin.register(Environment)
class EnvironmentAdmin(admin.ModelAdmin):
    list_display = ["gcp_project_id", "project", "name"]
    list_filter = ["name"]
    search_fields = ["gcp_project_id", "project__slug"]
    readonly_fields = ["project", "name", "gcp_project_id"]
    list_select_related = ["project"]

    def has_add_permission(self, request):
        return False


class SharedChangeInline(admin.TabularInline):
    model = SharedChange
    extra = 0
    fields = ["kind", "version", "requested_by", "created_at", "awaiting_stage"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(SharedMembership)
class SharedMembershipAdmin(ReadOnlyAdmin):
    """History of the shared composer's members; changes go through Hangar so they are built and deployed."""

    list_display = ["project", "state", "requested_by", "requested_at", "joined_at", "left_by", "left_at"]
    list_filter = ["state", "project__team"]
    search_fields = ["project__slug", "project__team__name"]
    list_select_related = ["project", "requested_by", "left_by"]
    readonly_fields = [
        "project",
        "state",
        "requested_by",
        "requested_at",
        "joined_at",
        "left_by",
        "left_at",
        "created_accounts",
    ]
    inlines = [SharedChangeInline]


@admin.register(SharedChange)
class SharedChangeAdmin(ReadOnlyAdmin):
    list_display = ["membership", "kind", "version", "requested_by", "created_at", "awaiting_stage"]
    list_filter = ["kind"]
    search_fields = ["membership__project__slug", "version"]
    readonly_fields = ["membership", "kind", "artifact", "version", "requested_by", "created_at", "awaiting_stage"]


@admin.register(SharedDagDeploy)
class SharedDagDeployAdmin(ReadOnlyAdmin):
    list_display = ["membership", "stage", "file_count", "total_bytes", "deployed_by", "deployed_at"]
    list_filter = ["stage"]
    readonly_fields = ["membership", "stage", "file_count", "total_bytes", "files", "deployed_by", "deployed_at"]
