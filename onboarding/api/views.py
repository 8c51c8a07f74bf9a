from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import mixins, viewsets
from rest_framework.exceptions import PermissionDenied, ValidationError

from onboarding import services
from onboarding.access import visible_projects, visible_teams
from onboarding.api.serializers import ProjectSerializer, TeamSerializer


def as_drf_error(error: DjangoValidationError) -> ValidationError:
    """One error shape for the API: {field: [messages]} or {"detail": [...]}."""
    if hasattr(error, "error_dict"):
        return ValidationError(error.message_dict)
    return ValidationError({"detail": error.messages})


class TeamViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Teams you belong to. Creating one makes you its lead."""

    serializer_class = TeamSerializer
    lookup_field = "slug"

    def get_queryset(self):
        return visible_teams(self.request.user).prefetch_related("memberships__user").order_by("name")

    def perform_create(self, serializer):
        try:
            serializer.instance = services.team_create(name=serializer.validated_data["name"], lead=self.request.user)
        except DjangoValidationError as error:
            raise as_drf_error(error) from None


class ProjectViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Projects of your teams; registering one creates its dev, test and prod environments."""

    serializer_class = ProjectSerializer
    lookup_field = "slug"

    def get_queryset(self):
        return (
            visible_projects(self.request.user).prefetch_related("environments").order_by("service_control_id", "name")
        )

    def get_serializer(self, *args, **kwargs):
        serializer = super().get_serializer(*args, **kwargs)
        if "team" in getattr(serializer, "fields", {}):
            # A caller may only name teams it can see; others look like they do not exist.
            serializer.fields["team"].queryset = visible_teams(self.request.user)
        return serializer

    def perform_create(self, serializer):
        data = serializer.validated_data
        try:
            serializer.instance = services.project_register(
                service_control_id=data["service_control_id"],
                name=data["name"],
                team=data["team"],
                user=self.request.user,
            )
        except DjangoValidationError as error:
            raise as_drf_error(error) from None
        except DjangoPermissionDenied as error:
            raise PermissionDenied(str(error)) from None
