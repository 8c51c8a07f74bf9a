"""The deployments table's API shape."""

from rest_framework import serializers

from deployments.drift.serializers import HealthSerializer


class DeploymentRowSerializer(serializers.Serializer):
    """A row of the deployments table (deployments.pages.selectors.DeploymentRow)."""

    environment = serializers.CharField(source="environment.name")
    target = serializers.CharField()
    gcp_project_id = serializers.CharField(source="environment.gcp_project_id")
    deployed_version = serializers.CharField(
        source="version", allow_null=True, help_text="The version of the last successful apply; null after a destroy."
    )
    status = serializers.CharField(allow_null=True, help_text="Status of the run running now, else of the last run.")
    deployed_by = serializers.CharField(allow_null=True, help_text="Who asked for the last successful apply.")
    deployed_at = serializers.DateTimeField(allow_null=True, help_text="When the last successful apply finished.")
    last_run = serializers.IntegerField(source="deployment.last_run_id", default=None, allow_null=True)
    last_run_operation = serializers.CharField(allow_null=True, help_text="plan, apply, destroy or refresh.")
    last_run_status = serializers.CharField(allow_null=True, help_text="succeeded, failed or cancelled.")
    last_run_at = serializers.DateTimeField(allow_null=True, help_text="When the last run finished.")
    active_run = serializers.IntegerField(source="deployment.active_run_id", default=None, allow_null=True)
    health = HealthSerializer(help_text="What the newest drift check says (docs/drift.md).")
