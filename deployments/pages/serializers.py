"""The deployments table's API shape."""

from rest_framework import serializers


class DeploymentRowSerializer(serializers.Serializer):
    """A row of the deployments table (deployments.pages.selectors.DeploymentRow)."""

    environment = serializers.CharField(source="environment.name")
    target = serializers.CharField()
    gcp_project_id = serializers.CharField(source="environment.gcp_project_id")
    deployed_version = serializers.CharField(source="version", allow_null=True)
    status = serializers.CharField(allow_null=True)
    deployed_by = serializers.CharField(allow_null=True)
    deployed_at = serializers.DateTimeField(allow_null=True)
    last_run = serializers.IntegerField(source="deployment.last_run_id", default=None, allow_null=True)
    active_run = serializers.IntegerField(source="deployment.active_run_id", default=None, allow_null=True)
