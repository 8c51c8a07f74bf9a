"""The run API's shapes."""

from rest_framework import serializers

from deployments.runs.choices import Operation, Target
from deployments.runs.models import LogLine, Run


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
