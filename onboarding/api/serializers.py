from rest_framework import serializers

from onboarding.models import Environment, Membership, Project, Team


class EnvironmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Environment
        fields = ["name", "gcp_project_id", "auto_apply"]
        read_only_fields = ["name", "gcp_project_id"]


class EnvironmentUpdateSerializer(serializers.Serializer):
    auto_apply = serializers.BooleanField(
        help_text="Apply plans that destroy and replace nothing without waiting for a confirmation."
    )


class MembershipSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")

    class Meta:
        model = Membership
        fields = ["username", "role"]


class TeamSerializer(serializers.ModelSerializer):
    members = MembershipSerializer(source="memberships", many=True, read_only=True)

    class Meta:
        model = Team
        fields = ["name", "slug", "members", "created_at"]
        read_only_fields = ["slug", "members", "created_at"]
        # Uniqueness is checked by the service with a clearer message.
        extra_kwargs = {"name": {"validators": []}}


class ProjectSerializer(serializers.ModelSerializer):
    service_control_id = serializers.CharField(help_text="A positive whole number; SC-123 is accepted too.")
    team = serializers.SlugRelatedField(slug_field="slug", queryset=Team.objects.all())
    environments = EnvironmentSerializer(many=True, read_only=True)

    class Meta:
        model = Project
        fields = ["id", "slug", "service_control_id", "name", "team", "environments", "created_at"]
        read_only_fields = ["id", "slug", "environments", "created_at"]
        validators = []  # the service and the database constraint decide uniqueness

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["service_control_id"] = instance.service_control_id
        return data
