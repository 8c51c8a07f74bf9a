"""REST API of sandboxes: one call for CI to create, read, extend and destroy a sandbox."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from deployments.errors import call_service, call_service_conflicts
from deployments.sandboxes import services
from deployments.sandboxes.selectors import SandboxView, project_sandboxes, sandbox_for_project, sandbox_views
from deployments.sandboxes.serializers import SandboxCreateSerializer, SandboxExtendSerializer, SandboxSerializer
from onboarding.access import project_for_user
from onboarding.api.views import as_drf_error


def _one(sandbox) -> dict:
    sandbox.refresh_from_db()
    sandbox = sandbox_for_project(sandbox.project, sandbox.pk)
    return SandboxSerializer(sandbox_views([sandbox])[0]).data


def _conflict(error: DjangoValidationError) -> Response:
    return Response({"detail": error.messages, "code": error.code or "conflict"}, status=status.HTTP_409_CONFLICT)


class SandboxListView(APIView):
    """A project's sandboxes, newest first (destroyed ones too). POST creates one from `version`'s
    `base_environment` definition and starts its apply run: 201 with the sandbox (`run` is that run);
    409 with `code: sandbox_limit` when the team has SANDBOX_MAX_PER_TEAM live sandboxes."""

    @extend_schema(responses={200: SandboxSerializer(many=True)})
    def get(self, request, slug):
        project = project_for_user(request.user, slug)
        return Response(SandboxSerializer(sandbox_views(project_sandboxes(project)), many=True).data)

    @extend_schema(request=SandboxCreateSerializer, responses={201: SandboxSerializer})
    def post(self, request, slug):
        project = project_for_user(request.user, slug)
        data = SandboxCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        try:
            sandbox = call_service_conflicts(
                services.sandbox_create,
                project=project,
                version=fields["version"],
                base_environment=fields["base_environment"],
                ttl_hours=fields.get("ttl_hours"),
                user=request.user,
            )
        except DjangoValidationError as error:
            if getattr(error, "code", None) == "sandbox_limit":
                return _conflict(error)
            raise as_drf_error(error) from None
        return Response(_one(sandbox), status=status.HTTP_201_CREATED)


class SandboxDetailView(APIView):
    """One sandbox: its status (creating, ready, create_failed, destroying, destroy_failed, destroyed), expiry
    and outputs. DELETE starts its destroy (202; the destroy under way if there is one; 409 once destroyed)."""

    @extend_schema(responses={200: SandboxSerializer})
    def get(self, request, slug, pk):
        project = project_for_user(request.user, slug)
        return Response(SandboxSerializer(SandboxView(sandbox_for_project(project, pk), timezone.now())).data)

    @extend_schema(request=None, responses={202: SandboxSerializer})
    def delete(self, request, slug, pk):
        project = project_for_user(request.user, slug)
        sandbox = sandbox_for_project(project, pk)
        try:
            call_service_conflicts(services.sandbox_destroy, sandbox=sandbox, user=request.user)
        except DjangoValidationError as error:
            return _conflict(error)
        return Response(_one(sandbox), status=status.HTTP_202_ACCEPTED)


class SandboxExtendView(APIView):
    """Push the expiry `hours` later, to at most SANDBOX_MAX_TTL from now (its owner and the team's leads)."""

    @extend_schema(request=SandboxExtendSerializer, responses={200: SandboxSerializer})
    def post(self, request, slug, pk):
        project = project_for_user(request.user, slug)
        sandbox = sandbox_for_project(project, pk)
        data = SandboxExtendSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        call_service(services.sandbox_extend, sandbox=sandbox, hours=data.validated_data["hours"], user=request.user)
        return Response(_one(sandbox))
