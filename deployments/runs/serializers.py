"""The run API's shapes."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from deployments.plans.readable import api_shape
from deployments.plans.selectors import run_readable_plan
from deployments.runs.choices import Operation, Target
from deployments.runs.models import LogLine, Run


class PlanChangeSerializer(serializers.Serializer):
    path = serializers.CharField()
    before = serializers.CharField(allow_null=True)
    after = serializers.CharField(allow_null=True)


class PlanDslSerializer(serializers.Serializer):
    kind = serializers.CharField()
    name = serializers.CharField()


class PlanResourceSerializer(serializers.Serializer):
    address = serializers.CharField()
    action = serializers.CharField(help_text="create, update, replace, delete or read.")
    dsl = PlanDslSerializer(allow_null=True)
    changes = PlanChangeSerializer(many=True)


class PlanWarningSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="data_loss, iam_removed, drift or more.")
    address = serializers.CharField(allow_blank=True)
    message = serializers.CharField()


class PlanSerializer(serializers.Serializer):
    add = serializers.IntegerField()
    change = serializers.IntegerField()
    destroy = serializers.IntegerField()
    refresh_only = serializers.BooleanField(
        help_text="An Accept reality plan (operation refresh): it changes no resource; the state takes `drift`."
    )
    resource_changes = PlanResourceSerializer(many=True)
    drift = PlanResourceSerializer(
        many=True, help_text="Resources changed outside Hangar, before → now (as the plan found them)."
    )
    warnings = PlanWarningSerializer(many=True)


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
    awaiting_confirmation = serializers.BooleanField(read_only=True)
    confirmed_by = serializers.CharField(source="confirmed_by.username", default=None)

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
            "auto_apply",
            "needs_confirmation",
            "awaiting_confirmation",
            "confirm_destroy",
            "plan_expires_at",
            "confirmed_by",
            "confirmed_at",
            "approval_required",
            "awaiting_approval",
            "approved_by",
            "approved_at",
        ]

    @extend_schema_field(PlanSerializer(allow_null=True))
    def get_plan(self, run: Run) -> dict | None:
        """The saved plan in the DSL's terms for one run (context `plan_detail`); in lists, and for runs planned
        before plans were saved, only the counts."""
        readable = run_readable_plan(run) if self.context.get("plan_detail") else None
        if readable is not None:
            return api_shape(readable)
        if run.to_add is None:
            return None
        return {
            "add": run.to_add,
            "change": run.to_change,
            "destroy": run.to_destroy,
            "refresh_only": run.operation == Operation.REFRESH,
            "resource_changes": [],
            "drift": [],
            "warnings": [],
        }

    def get_url(self, run: Run) -> str:
        request = self.context.get("request")
        path = run.get_absolute_url()
        return request.build_absolute_uri(path) if request else path


class RunCreateSerializer(serializers.Serializer):
    project = serializers.CharField(help_text="Project slug, e.g. sc-123-example.")
    environment = serializers.CharField(help_text="dev, test or prod.")
    target = serializers.ChoiceField(choices=Target.choices, default=Target.LOCAL)
    version = serializers.CharField(help_text="An uploaded artifact version, e.g. 0.1.87.")
    operation = serializers.ChoiceField(
        choices=Operation.choices,
        default=Operation.APPLY,
        help_text="plan, apply, destroy, or refresh (Accept reality: `terraform apply -refresh-only` of the deployed "
        "version; team leads only).",
    )
    confirm_destroy = serializers.BooleanField(
        default=False,
        help_text="Apply automatically even when the plan destroys or replaces resources (where the environment "
        "applies automatically); without it such a plan waits for a person.",
    )


class LogLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = LogLine
        fields = ["seq", "at", "level", "type", "message", "raw"]
