"""REST API of runs: start, follow, cancel, approve, read the log."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from deployments.errors import call_service, call_service_conflicts
from deployments.runs import services as runs
from deployments.runs.logs import visible_log_lines
from deployments.runs.selectors import run_for_user, visible_runs
from deployments.runs.serializers import LogLineSerializer, RunCreateSerializer, RunSerializer
from onboarding.access import visible_projects
from onboarding.api.views import as_drf_error


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
        run = call_service(
            runs.run_start,
            project=project,
            environment=fields["environment"],
            target=fields["target"],
            version=fields["version"],
            operation=fields["operation"],
            user=request.user,
            confirm_destroy=fields["confirm_destroy"],
        )
        return Response(
            RunSerializer(run, context={"request": request, "plan_detail": True}).data, status=status.HTTP_201_CREATED
        )


class RunDetailView(generics.RetrieveAPIView):
    """One run, with its saved plan read in the DSL's terms (`plan`)."""

    serializer_class = RunSerializer

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "plan_detail": True}

    def get_object(self):
        return run_for_user(self.request.user, self.kwargs["pk"])


class RunCancelView(APIView):
    @extend_schema(request=None, responses={202: RunSerializer})
    def post(self, request, pk):
        run = run_for_user(request.user, pk)
        call_service(runs.run_cancel, run=run, user=request.user)
        run.refresh_from_db()
        return Response(
            RunSerializer(run, context={"request": request, "plan_detail": True}).data, status=status.HTTP_202_ACCEPTED
        )


def _conflict(error: DjangoValidationError) -> Response:
    return Response({"detail": error.messages, "code": error.code or "conflict"}, status=status.HTTP_409_CONFLICT)


class RunConfirmView(APIView):
    """Apply exactly this run's saved plan. 202 when it goes to a worker; 409 with the reason when the run is
    not waiting for a confirmation or its plan is stale or expired; 403 for someone who may not confirm (for a
    production run that needs approval: a second team lead, not its requester)."""

    @extend_schema(request=None, responses={202: RunSerializer})
    def post(self, request, pk):
        run = run_for_user(request.user, pk)
        try:
            run = call_service_conflicts(runs.run_confirm, run=run, user=request.user)
        except DjangoValidationError as error:
            return _conflict(error)
        return Response(
            RunSerializer(run, context={"request": request, "plan_detail": True}).data, status=status.HTTP_202_ACCEPTED
        )


class RunApproveView(RunConfirmView):
    """Approve a production run: the same as confirming its saved plan (kept for existing pipelines)."""


class RunDiscardView(APIView):
    """Drop a planned run's saved plan without applying it; its environment's next run starts."""

    @extend_schema(request=None, responses={200: RunSerializer})
    def post(self, request, pk):
        run = run_for_user(request.user, pk)
        try:
            run = call_service_conflicts(runs.run_discard, run=run, user=request.user)
        except DjangoValidationError as error:
            return _conflict(error)
        return Response(RunSerializer(run, context={"request": request, "plan_detail": True}).data)


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
        lines = visible_log_lines(user=request.user, run=run, after=after, limit=limit)
        return Response(
            {
                "run": run.pk,
                "status": run.status,
                "finished": finished and len(lines) < limit,
                "next": lines[-1].seq if lines else after,
                "lines": LogLineSerializer(lines, many=True).data,
            }
        )
