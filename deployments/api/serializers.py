from rest_framework import serializers

from deployments.choices import Operation, Target
from deployments.models import Artifact, LogLine, Run


class ArtifactSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.CharField(source="uploaded_by.username", default=None)
    environments = serializers.ListField(source="manifest.environments", child=serializers.CharField(), default=list)

    class Meta:
        model = Artifact
        fields = ["version", "sha256", "size", "environments", "uploaded_by", "uploaded_at"]


class ArtifactUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The artifact zip built by `manage.py build_artifact`.")


class RunSerializer(serializers.ModelSerializer):
    project = serializers.CharField(source="deployment.environment.project.slug")
    environment = serializers.CharField(source="deployment.environment.name")
    target = serializers.CharField(source="deployment.target")
    version = serializers.CharField(source="artifact.version")
    requested_by = serializers.CharField(source="requested_by.username", default=None)
    plan = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    approved_by = serializers.CharField(source="approved_by.username", default=None)
    awaiting_approval = serializers.BooleanField(read_only=True)

    class Meta:
        model = Run
        fields = [
            "id",
            "url",
            "project",
            "environment",
            "target",
            "version",
            "operation",
            "status",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
            "plan",
            "outputs",
            "resources",
            "error",
            "worker",
            "terraform_version",
            "approval_required",
            "awaiting_approval",
            "approved_by",
            "approved_at",
        ]

    def get_plan(self, run: Run) -> dict | None:
        if run.to_add is None:
            return None
        return {"add": run.to_add, "change": run.to_change, "destroy": run.to_destroy}

    def get_url(self, run: Run) -> str:
        request = self.context.get("request")
        path = run.get_absolute_url()
        return request.build_absolute_uri(path) if request else path


class RunCreateSerializer(serializers.Serializer):
    project = serializers.CharField(help_text="Project slug, e.g. sc-123-example.")
    environment = serializers.CharField(help_text="dev, test or prod.")
    target = serializers.ChoiceField(choices=Target.choices, default=Target.LOCAL)
    version = serializers.CharField(help_text="An uploaded artifact version, e.g. 0.1.87.")
    operation = serializers.ChoiceField(choices=Operation.choices, default=Operation.APPLY)


class LogLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = LogLine
        fields = ["seq", "at", "level", "type", "message", "raw"]


class DeploymentRowSerializer(serializers.Serializer):
    """A row of the deployments table (deployments.tables.DeploymentRow)."""

    environment = serializers.CharField(source="environment.name")
    target = serializers.CharField()
    gcp_project_id = serializers.CharField(source="environment.gcp_project_id")
    deployed_version = serializers.CharField(source="version", allow_null=True)
    status = serializers.CharField(allow_null=True)
    deployed_by = serializers.CharField(allow_null=True)
    deployed_at = serializers.DateTimeField(allow_null=True)
    last_run = serializers.IntegerField(source="deployment.last_run_id", default=None)
    active_run = serializers.IntegerField(source="deployment.active_run_id", default=None)
