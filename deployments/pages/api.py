"""REST API of the deployments table."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from deployments.pages.selectors import deployment_rows
from deployments.pages.serializers import DeploymentRowSerializer
from onboarding.access import project_for_user


class DeploymentListView(APIView):
    """The deployments table of a project: one row per environment + target, deployed or not."""

    @extend_schema(responses={200: DeploymentRowSerializer(many=True)})
    def get(self, request, slug):
        rows = deployment_rows(project=project_for_user(request.user, slug))
        return Response(DeploymentRowSerializer(rows, many=True).data)
