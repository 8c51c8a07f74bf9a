"""REST API of drift: check a deployment now, read a check."""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from deployments.drift import services
from deployments.drift.selectors import check_for_user
from deployments.drift.serializers import DriftCheckSerializer
from deployments.errors import call_service
from deployments.pages.rows import row_deployment
from onboarding.access import project_for_user
from onboarding.api.views import as_drf_error


class DriftCheckStartView(APIView):
    """Check a deployment for drift now. Answers 202 with the check (or the one already queued or running)."""

    @extend_schema(request=None, responses={202: DriftCheckSerializer})
    def post(self, request, slug, environment, target):
        project = project_for_user(request.user, slug)
        deployment = row_deployment(project, environment, target)
        if deployment is None:
            raise as_drf_error(ValidationError(services.nothing_deployed(environment, target)))
        check = call_service(services.drift_check_start, deployment=deployment, user=request.user)
        check = check_for_user(request.user, check.pk)
        return Response(DriftCheckSerializer(check).data, status=status.HTTP_202_ACCEPTED)


class DriftCheckDetailView(generics.RetrieveAPIView):
    """One drift check: its outcome and the drifted resources, with each attribute's before → after."""

    serializer_class = DriftCheckSerializer

    def get_object(self):
        return check_for_user(self.request.user, self.kwargs["pk"])
