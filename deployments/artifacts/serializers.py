"""The artifact API's shapes."""

from rest_framework import serializers

from deployments.artifacts.models import Artifact


class ArtifactSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.CharField(source="uploaded_by.username", default=None)
    environments = serializers.ListField(source="manifest.environments", child=serializers.CharField(), default=list)

    class Meta:
        model = Artifact
        fields = ["version", "sha256", "size", "environments", "uploaded_by", "uploaded_at"]


class ArtifactUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The artifact zip built by `manage.py build_artifact`.")
