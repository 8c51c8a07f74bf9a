from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from deployments.operations.selectors import operations_summary
from deployments.runs import services as runs
from deployments.runs.choices import RunStatus
from deployments.runs.models import Deployment, Run


def finish(run, status, error="", seconds=10):
    runs.run_dispatch(deployment_id=run.deployment_id)
    claimed = runs.run_claim(run_id=run.pk, worker="w")
    Run.objects.filter(pk=run.pk).update(started_at=timezone.now() - timedelta(seconds=seconds))
    claimed.refresh_from_db()
    runs.run_finish(run=claimed, status=status, error=error)


def start(project, user, env="dev", operation="apply"):
    return runs.run_start(
        project=project, environment=env, target="local", version="0.1.0", operation=operation, user=user
    )


def test_the_summary_counts_outcomes_failures_lost_workers_and_durations(project, lead, upload):
    upload(project, lead, "0.1.0")
    finish(start(project, lead), RunStatus.SUCCEEDED, seconds=10)
    finish(start(project, lead), RunStatus.SUCCEEDED, seconds=30)
    finish(start(project, lead), RunStatus.FAILED, error="The worker running this run (w) stopped responding; …")
    queued = start(project, lead, env="test")
    Deployment.objects.filter(environment__name="dev").update(lock_id="L", locked_at=timezone.now())
    summary = operations_summary()
    week = summary["windows"][0]
    assert (week.total, week.by_status["succeeded"], week.by_status["failed"], week.lost) == (4, 2, 1, 1)
    assert round(week.failure_rate, 2) == 0.33
    assert 10 <= week.apply_median <= 30 and week.apply_p95 >= week.apply_median
    assert summary["queued"] == 1 and summary["oldest_queued"] == queued
    assert [p.slug for p in summary["failing_projects"]] == [project.slug]
    assert [str(d) for d in summary["locked"]] == ["sc-123-example-dev / local"]


def test_the_page_is_for_admins(client_for, admin_user, lead, project):
    assert client_for(admin_user).get(reverse("operations")).status_code == 200
    assert client_for(lead).get(reverse("operations")).status_code == 403
