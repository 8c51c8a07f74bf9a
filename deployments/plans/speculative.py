"""What would this version change? Speculative plans of a freshly uploaded version.

After an upload, Hangar plans the new version against every environment of the project that runs
something (a deployment with a deployed version): `terraform plan -lock=false`, never applied,
holding no slot, so a deploy in progress is neither delayed nor delays it. The plan reads the
environment's state with a password the state backend accepts for GET only, and the cloud with a
read-only token: a speculative plan cannot change anything, even from a hostile artifact. Its result
(counts, whether it destroys anything, the readable plan) shows on the Deploy tab and the artifact
page. SPECULATIVE_PLANS=false turns it off."""

import json

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from deployments.artifacts.models import Artifact
from deployments.plans.models import SpeculativePlan
from deployments.plans.readonly import ERROR_TAIL, Job, PlanFailed, failure_text, reader_authenticate, readonly_job
from deployments.plans.services import plan_review
from deployments.runs import dispatch
from deployments.runs.models import Deployment
from onboarding.models import EnvironmentKind

SPECULATIVE_PLAN = "deployments.plans.speculative_plan"
USERNAME_PREFIX = "plan-"
PLAN_FILE = "speculative.tfplan"


def speculative_plans_start(*, artifact: Artifact) -> list[SpeculativePlan]:
    """Queue a speculative plan of `artifact` for each environment of its project that runs something."""
    if not settings.SPECULATIVE_PLANS:
        return []
    environments = artifact.manifest.get("environments") or []
    # Sandboxes are not planned: each is made from one version and lives only hours.
    deployments = Deployment.objects.filter(
        environment__project_id=artifact.project_id,
        environment__kind=EnvironmentKind.FIXED,
        deployed_artifact__isnull=False,
    ).select_related("environment")
    created = []
    with transaction.atomic():
        for deployment in deployments:
            if environments and deployment.environment.name not in environments:
                continue
            plan, new = SpeculativePlan.objects.get_or_create(artifact=artifact, deployment=deployment)
            if new:
                created.append(plan)
                transaction.on_commit(lambda pk=plan.pk: dispatch.send_task(SPECULATIVE_PLAN, pk))
    return created


def speculative_authenticate(*, deployment_id: int, username: str, password: str) -> SpeculativePlan:
    """The running speculative plan these credentials belong to; it may read this deployment's state only."""
    return reader_authenticate(
        SpeculativePlan, prefix=USERNAME_PREFIX, deployment_id=deployment_id, username=username, password=password
    )


def speculative_execute(*, plan_id: int) -> None:
    """A worker's part: plan in a fresh sandboxed workspace, keep the readable result, leave nothing behind."""
    claimed = SpeculativePlan.objects.filter(pk=plan_id, status=SpeculativePlan.Status.QUEUED).update(
        status=SpeculativePlan.Status.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return  # a duplicate delivery
    plan = SpeculativePlan.objects.select_related("artifact", "deployment__environment__project").get(pk=plan_id)
    try:
        with readonly_job(row=plan, prefix=USERNAME_PREFIX, deployment=plan.deployment, artifact=plan.artifact) as job:
            result = _plan(job)
        # Status and end time in one update: a reader never sees a finished plan without its end time.
        SpeculativePlan.objects.filter(pk=plan.pk).update(
            status=SpeculativePlan.Status.SUCCEEDED, finished_at=timezone.now(), **result
        )
    except Exception as error:
        _fail(plan, failure_text(error, what="planning this version"))


def _fail(plan: SpeculativePlan, error: str) -> None:
    SpeculativePlan.objects.filter(pk=plan.pk).update(
        status=SpeculativePlan.Status.FAILED, error=error[-ERROR_TAIL:], finished_at=timezone.now()
    )


def _plan(job: Job) -> dict:
    job.terraform("init", "-input=false", "-no-color")
    job.terraform("plan", "-input=false", "-no-color", "-lock=false", f"-out={PLAN_FILE}")
    try:
        plan_json = json.loads(job.terraform("show", "-json", PLAN_FILE))
    except ValueError:
        raise PlanFailed("terraform show -json printed no plan that Hangar could read.") from None
    readable, counts = plan_review(plan_json, sources=job.sources(), environment=job.environment)
    return {
        "plan_json": plan_json,
        "row_counts": counts,
        "to_add": readable.add,
        "to_change": readable.change,
        "to_destroy": readable.destroy,
        "destroys": readable.destroys_anything or readable.replaces_anything,
    }
