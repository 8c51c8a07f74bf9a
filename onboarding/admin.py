from django.contrib import admin

from onboarding.models import Environment, Membership, Project, Team
from onboarding.shared_composer.models import SharedChange, SharedDagDeploy, SharedMembership
from portal.admin import ReadOnlyAdmin, hangar_link

# Teams, memberships and projects change only through Hangar's pages and API (onboarding/services.py),
# where the naming rules, the last-lead rule, the reserved platform identities and the audit trail
# apply. Admin shows them read-only, each with a link to its page.


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = readonly_fields = ["user", "role", "created_at"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Team)
class TeamAdmin(ReadOnlyAdmin):
    list_display = ["name", "slug", "created_at", "page"]
    search_fields = ["name", "slug", "memberships__user__username"]
    inlines = [MembershipInline]

    @admin.display(description="Change it")
    def page(self, obj):
        return hangar_link(obj, "Team page")


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ["user", "team", "role", "created_at", "page"]
    list_filter = ["role", "team"]
    search_fields = ["user__username", "team__name"]
    list_select_related = ["user", "team"]

    @admin.display(description="Change it")
    def page(self, obj):
        return hangar_link(obj.team, "Team page")


class EnvironmentInline(admin.TabularInline):
    model = Environment
    extra = 0
    readonly_fields = ["name", "gcp_project_id"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Project)
class ProjectAdmin(ReadOnlyAdmin):
    list_display = ["slug", "service_control_id", "name", "team", "created_by", "created_at", "page"]
    list_filter = ["team", "created_at"]
    search_fields = ["slug", "name", "service_control_id", "team__name"]
    list_select_related = ["team", "created_by"]
    inlines = [EnvironmentInline]

    @admin.display(description="Change it")
    def page(self, obj):
        return hangar_link(obj, "Project page")


@admin.register(Environment)
class EnvironmentAdmin(ReadOnlyAdmin):
    list_display = ["gcp_project_id", "project", "name", "kind"]
    list_filter = ["kind", "name"]
    search_fields = ["gcp_project_id", "project__slug"]
    list_select_related = ["project"]

    def get_queryset(self, request):
        return Environment.all_objects.select_related("project")  # sandboxes too


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
