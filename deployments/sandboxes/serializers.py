"""The sandbox API's shapes."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


class SandboxCreateSerializer(serializers.Serializer):
    version = serializers.CharField(max_length=100)
    base_environment = serializers.CharField(max_length=10, default="dev")
    ttl_hours = serializers.FloatField(
        required=False,
        allow_null=True,
        help_text="Hours to live; default SANDBOX_DEFAULT_TTL, at most SANDBOX_MAX_TTL.",
    )


class SandboxExtendSerializer(serializers.Serializer):
    hours = serializers.FloatField(help_text="Hours to add to the expiry (from now when it is overdue).")


class SandboxSerializer(serializers.Serializer):
    """A SandboxView (deployments.sandboxes.selectors)."""

    id = serializers.IntegerField(source="sandbox.pk")
    name = serializers.CharField(source="sandbox.name")
    project = serializers.CharField(source="sandbox.project.slug")
    gcp_project_id = serializers.CharField(source="sandbox.gcp_project_id")
    version = serializers.CharField(source="sandbox.artifact.version")
    base_environment = serializers.CharField(source="sandbox.base_environment")
    owner = serializers.CharField(source="sandbox.owner.username", default=None)
    created_at = serializers.DateTimeField(source="sandbox.created_at")
    expires_at = serializers.DateTimeField(source="sandbox.expires_at")
    status = serializers.ChoiceField(
        choices=["creating", "ready", "create_failed", "destroying", "destroy_failed", "destroyed"]
    )
    expiring = serializers.BooleanField(help_text="Within SANDBOX_WARN_BEFORE of its expiry.")
    run = serializers.SerializerMethodField(help_text="The latest run: the destroy once there is one, else the apply.")
    create_run = serializers.IntegerField(source="sandbox.create_run_id", allow_null=True)
    destroy_run = serializers.IntegerField(source="sandbox.destroy_run_id", allow_null=True)
    destroy_attempts = serializers.IntegerField(source="sandbox.destroy_attempts")
    next_destroy_at = serializers.DateTimeField(source="sandbox.next_destroy_at", allow_null=True)
    destroy_error = serializers.CharField(source="sandbox.destroy_error")
    destroyed_at = serializers.DateTimeField(source="sandbox.destroyed_at", allow_null=True)
    outputs = serializers.SerializerMethodField()

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_run(self, view) -> int | None:
        run = view.run
        return run.pk if run else None

    @extend_schema_field(serializers.DictField())
    def get_outputs(self, view) -> dict:
        return view.outputs
