from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from deployments import artifact_services, runs
from deployments.api.serializers import (
    ArtifactSerializer,
    ArtifactUploadSerializer,
    DeploymentRowSerializer,
    LogLineSerializer,
    RunCreateSerializer,
    RunSerializer,
)
from deployments.logs import log_lines_after
from deployments.selectors import project_artifacts, run_for_user, visible_runs
from deployments.tables import deployment_rows
from onboarding.access import project_for_user, visible_projects
from onboarding.api.views import as_drf_error


def _call(service, **kwargs):
    """Run a service, turning its errors into the API's one error shape."""
    try:
        return service(**kwargs)
    except DjangoValidationError as error:
        raise as_drf_error(error) from None
    except DjangoPermissionDenied as error:
        raise PermissionDenied(str(error)) from None


class ArtifactListView(generics.ListAPIView):
    """A project's artifacts, newest version first. POST a zip (multipart field `file`) to upload one."""

    serializer_class = ArtifactSerializer
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self):
        return project_artifacts(project_for_user(self.request.user, self.kwargs["slug"]))

    @extend_schema(request=ArtifactUploadSerializer, responses={201: ArtifactSerializer, 200: ArtifactSerializer})
    def post(self, request, slug):
        project = project_for_user(request.user, slug)
        if too_large := artifact_services.upload_size_problem(request.META.get("CONTENT_LENGTH")):
            return Response({"file": [too_large]}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        upload = ArtifactUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        artifact, created = _call(
            artifact_services.artifact_upload, project=project, fileobj=upload.validated_data["file"], user=request.user
        )
        return Response(
            ArtifactSerializer(artifact).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class RunListView(generics.ListCreateAPIView):
    """Runs you may see, newest first; filter by `project`, `environment`, `target`, `status`.
    POST starts one (queued behind any run on the same environment + target)."""

    serializer_class = RunSerializer

    def get_queryset(self):
        queryset = visible_runs(self.request.user)
        filters = {
            "project": "deployment__environment__project__slug",
            "environment": "deployment__environment__name",
            "target": "deployment__target",
            "status": "status",
        }
        for param, lookup in filters.items():
            if value := self.request.query_params.get(param):
                queryset = queryset.filter(**{lookup: value})
        return queryset.order_by("-id")

    @extend_schema(request=RunCreateSerializer, responses={201: RunSerializer})
    def post(self, request):
        data = RunCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        projects = visible_projects(request.user)
        project = projects.filter(slug=fields["project"]).first()
        if project is None:
            raise as_drf_error(DjangoValidationError({"project": f"No project {fields['project']!r}."}))
        run = _call(
            runs.run_start,
            project=project,
            environment=fields["environment"],
            target=fields["target"],
            version=fields["version"],
            operation=fields["operation"],
            user=request.user,
        )
        return Response(RunSerializer(run, context={"request": request}).data, status=status.HTTP_201_CREATED)


class RunDetailView(generics.RetrieveAPIView):
    serializer_class = RunSerializer

    def get_object(self):
        return run_for_user(self.request.user, self.kwargs["pk"])


class RunCancelView(APIView):
    @extend_schema(request=None, responses={202: RunSerializer})
    def post(self, request, pk):
        run = run_for_user(request.user, pk)
        _call(runs.run_cancel, run=run, user=request.user)
        run.refresh_from_db()
        return Response(RunSerializer(run, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)


class RunApproveView(APIView):
    """Approve a production run that waits for a team lead (not its requester)."""

    @extend_schema(request=None, responses={200: RunSerializer})
    def post(self, request, pk):
        run = _call(runs.run_approve, run=run_for_user(request.user, pk), user=request.user)
        return Response(RunSerializer(run, context={"request": request}).data)


class RunLogView(APIView):
    """Log lines after a sequence number (`after`, default 0), at most `limit` (default 1000).
    `next` is the cursor for the following call; `finished` says no more lines will come."""

    @extend_schema(
        parameters=[OpenApiParameter("after", int), OpenApiParameter("limit", int)],
        responses={200: LogLineSerializer(many=True)},
    )
    def get(self, request, pk):
        run = run_for_user(request.user, pk)
        try:
            after = max(int(request.query_params.get("after", 0)), 0)
            limit = min(max(int(request.query_params.get("limit", 1000)), 1), 5000)
        except ValueError:
            raise as_drf_error(DjangoValidationError({"after": "after and limit are whole numbers."})) from None
        finished = run.is_finished  # read before the lines, so none can be missed
        lines = log_lines_after(run=run, after=after, limit=limit)
        return Response(
            {
                "run": run.pk,
                "status": run.status,
                "finished": finished and len(lines) < limit,
                "next": lines[-1].seq if lines else after,
                "lines": LogLineSerializer(lines, many=True).data,
            }
        )


class DeploymentListView(APIView):
    """The deployments table of a project: one row per environment + target, deployed or not."""

    @extend_schema(responses={200: DeploymentRowSerializer(many=True)})
    def get(self, request, slug):
        rows = deployment_rows(project=project_for_user(request.user, slug))
        return Response(DeploymentRowSerializer(rows, many=True).data)
