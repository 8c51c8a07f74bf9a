"""REST API of artifacts: list and upload."""

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from deployments.artifacts import services as artifact_services
from deployments.artifacts.selectors import project_artifacts
from deployments.artifacts.serializers import ArtifactSerializer, ArtifactUploadSerializer
from deployments.errors import call_service
from deployments.plans.models import SpeculativePlan
from deployments.plans.speculative import speculative_plans_start
from onboarding.access import project_for_user


class ArtifactListView(generics.ListAPIView):
    """A project's artifacts, newest version first. POST a zip (multipart field `file`) to upload one."""

    serializer_class = ArtifactSerializer
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self):
        plans = SpeculativePlan.objects.select_related("deployment__environment").defer("plan_json", "row_counts")
        return project_artifacts(project_for_user(self.request.user, self.kwargs["slug"])).prefetch_related(
            Prefetch("speculative_plans", queryset=plans)
        )

    @extend_schema(request=ArtifactUploadSerializer, responses={201: ArtifactSerializer, 200: ArtifactSerializer})
    def post(self, request, slug):
        project = project_for_user(request.user, slug)
        if too_large := artifact_services.upload_size_problem(request.META.get("CONTENT_LENGTH")):
            return Response({"file": [too_large]}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        upload = ArtifactUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        artifact, created = call_service(
            artifact_services.artifact_upload, project=project, fileobj=upload.validated_data["file"], user=request.user
        )
        if created:
            speculative_plans_start(artifact=artifact)
        return Response(
            ArtifactSerializer(artifact).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )
