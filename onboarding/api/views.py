from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from onboarding import services
from onboarding.access import visible_projects, visible_teams
from onboarding.api.serializers import (
    EnvironmentSerializer,
    EnvironmentUpdateSerializer,
    ProjectSerializer,
    TeamSerializer,
)


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


class EnvironmentView(APIView):
    """One environment of a project. PATCH `{"auto_apply": bool}` (team leads): whether plans that destroy and
    replace nothing are applied without waiting for a confirmation."""

    def _environment(self, request, slug: str, name: str):
        project = visible_projects(request.user).filter(slug=slug).first()
        environment = project.environments.filter(name=name).first() if project else None
        if environment is None:
            raise Http404(f"No environment {name!r} of project {slug!r}.")
        return environment

    @extend_schema(responses={200: EnvironmentSerializer})
    def get(self, request, slug, name):
        return Response(EnvironmentSerializer(self._environment(request, slug, name)).data)

    @extend_schema(request=EnvironmentUpdateSerializer, responses={200: EnvironmentSerializer})
    def patch(self, request, slug, name):
        environment = self._environment(request, slug, name)
        data = EnvironmentUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            environment = services.environment_set_auto_apply(
                environment=environment, auto_apply=data.validated_data["auto_apply"], user=request.user
            )
        except DjangoValidationError as error:
            raise as_drf_error(error) from None
        except DjangoPermissionDenied as error:
            raise PermissionDenied(str(error)) from None
        return Response(EnvironmentSerializer(environment).data)
