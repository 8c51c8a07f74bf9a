"""The API's shape of drift checks and of a deployment's Health."""

from rest_framework import serializers

from deployments.drift.models import DriftCheck


class HealthSerializer(serializers.Serializer):
    """deployments.drift.health.Health"""

    status = serializers.ChoiceField(choices=["in_sync", "drifted", "check_failed", "unchecked"])
    checked_at = serializers.DateTimeField(allow_null=True, help_text="When the newest drift check finished.")
    drifted = serializers.ListField(child=serializers.CharField(), help_text="Addresses of the drifted resources.")
    check = serializers.IntegerField(source="check_id", allow_null=True, help_text="The drift check that says so.")


class AttributeDriftSerializer(serializers.Serializer):
    path = serializers.CharField()
    before = serializers.CharField(allow_null=True)
    after = serializers.CharField(allow_null=True)
    sentence = serializers.CharField(help_text='e.g. "label `cost_center` added (finance)"')


class DslNameSerializer(serializers.Serializer):
    kind = serializers.CharField()
    name = serializers.CharField()


class DriftedResourceSerializer(serializers.Serializer):
    address = serializers.CharField()
    action = serializers.CharField(help_text="update: changed outside Hangar; delete: deleted outside Hangar.")
    dsl = DslNameSerializer(allow_null=True, help_text="The DSL object it belongs to; null for plain Terraform.")
    changes = AttributeDriftSerializer(many=True)


class DriftCheckSerializer(serializers.ModelSerializer):
    project = serializers.CharField(source="deployment.environment.project.slug", read_only=True)
    environment = serializers.CharField(source="deployment.environment.name", read_only=True)
    target = serializers.CharField(source="deployment.target", read_only=True)
    version = serializers.CharField(source="artifact.version", read_only=True)
    requested_by = serializers.SerializerMethodField()
    resources = DriftedResourceSerializer(many=True, read_only=True)
    outcome = serializers.SerializerMethodField()

    class Meta:
        model = DriftCheck
        fields = [
            "id", "project", "environment", "target", "version", "status", "outcome", "requested_by", "created_at",
            "started_at", "finished_at", "resources", "would_change", "note", "error",
        ]  # fmt: skip

    def get_requested_by(self, check) -> str | None:
        """null: the schedule started it."""
        return check.requested_by.get_username() if check.requested_by else None

    def get_outcome(self, check) -> str | None:
        """in_sync, drifted or check_failed once finished; null while queued or running, or when skipped."""
        return check.outcome or None
