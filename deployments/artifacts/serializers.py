"""The artifact API's shapes."""

from rest_framework import serializers

from deployments.artifacts.models import Artifact


class SpeculativePlanSerializer(serializers.Serializer):
    """What the version would change in one environment that runs something (planned at upload)."""

    id = serializers.IntegerField()
    environment = serializers.CharField(source="deployment.environment.name")
    target = serializers.CharField(source="deployment.target")
    status = serializers.CharField(help_text="queued, running, succeeded or failed.")
    add = serializers.IntegerField(source="to_add", allow_null=True)
    change = serializers.IntegerField(source="to_change", allow_null=True)
    destroy = serializers.IntegerField(source="to_destroy", allow_null=True)
    destroys = serializers.BooleanField(help_text="Deletes or replaces at least one resource.")
    error = serializers.CharField()


class ArtifactSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.CharField(source="uploaded_by.username", default=None)
    environments = serializers.ListField(source="manifest.environments", child=serializers.CharField(), default=list)
    speculative_plans = SpeculativePlanSerializer(many=True, read_only=True)

    class Meta:
        model = Artifact
        fields = ["version", "sha256", "size", "environments", "uploaded_by", "uploaded_at", "speculative_plans"]


class ArtifactUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The artifact zip built by `hangar build` (or `manage.py build_artifact`).")
