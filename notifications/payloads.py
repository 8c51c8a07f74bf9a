"""The stable JSON payload of each event (docs/notifications.md), and the chat message made from it.

Every payload has the same envelope: `event`, `id`, `at`, `project`, `environment`, `target`, `run`, `actor`,
`url`, `text` and `summary`. It carries no secret and no run output (outputs may be sensitive): counts,
addresses, names, the start of an error."""

import uuid
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from notifications.events import EVENTS, TEST_EVENT

ERROR_LIMIT = 1000
RESOURCE_LIMIT = 20
SCHEMA_VERSION = 1


def absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def envelope(
    event: str,
    *,
    project=None,
    environment: str | None = None,
    target: str | None = None,
    run=None,
    actor: str | None = None,
    url: str = "",
    text: str = "",
    summary: dict | None = None,
    at: datetime | None = None,
) -> dict:
    return {
        "event": event,
        "version": SCHEMA_VERSION,
        "id": str(uuid.uuid4()),
        "at": _iso(at or timezone.now()),
        "project": {"slug": project.slug, "name": project.name, "team": project.team.slug} if project else None,
        "environment": environment,
        "target": target,
        "run": run_facts(run) if run is not None else None,
        "actor": actor,
        "url": url or (absolute(run.get_absolute_url()) if run is not None else ""),
        "text": text,
        "summary": summary or {},
    }


def run_facts(run) -> dict:
    return {
        "id": run.pk,
        "url": absolute(run.get_absolute_url()),
        "operation": run.operation,
        "version": run.artifact.version,
        "status": run.status,
    }


def _counts(run) -> dict:
    return {"add": run.to_add, "change": run.to_change, "destroy": run.to_destroy}


def _username(user) -> str | None:
    return user.get_username() if user is not None else None


def run_event(event: str, run) -> dict:
    """run.confirmation_needed, run.approval_needed, run.failed, run.succeeded."""
    environment = run.deployment.environment
    project = environment.project
    where = f"{project.slug} {environment.name}/{run.deployment.target}"
    what = f"run #{run.pk} ({run.operation} {run.artifact.version})"
    counts = _counts(run)
    plan = f"+{counts['add'] or 0} ~{counts['change'] or 0} −{counts['destroy'] or 0}"
    summary: dict = {"plan": counts}
    if event in ("run.confirmation_needed", "run.approval_needed"):
        reason = run.transitions.filter(status="planned").order_by("-id").values_list("note", flat=True).first()
        summary["reasons"] = [
            part.strip() for part in (reason or "").removeprefix("waiting for confirmation:").split(";") if part.strip()
        ]
        summary["expires_at"] = _iso(run.plan_expires_at)
        who = "a second team lead's approval" if event == "run.approval_needed" else "a confirmation"
        text = f"{where}: {what} planned {plan} and waits for {who}."
    elif event == "run.failed":
        summary["error"] = (run.error or "")[:ERROR_LIMIT]
        first = (run.error or "no reason recorded").strip().splitlines()[0][:200] if run.error else "no reason recorded"
        text = f"{where}: {what} failed: {first}"
    else:
        summary["resources"] = len(run.resources or [])
        text = f"{where}: {what} succeeded ({plan})."
    return envelope(
        event,
        project=project,
        environment=environment.name,
        target=run.deployment.target,
        run=run,
        actor=_username(run.requested_by),
        text=text,
        summary=summary,
        at=run.finished_at if event in ("run.failed", "run.succeeded") else None,
    )


def drift_event(event: str, check, previous=None) -> dict:
    """drift.detected and drift.resolved: the drifted resources by address and DSL name, with the paths of the
    attributes that changed (no values: they could be anything someone typed into the console)."""
    deployment = check.deployment
    environment = deployment.environment
    project = environment.project
    from django.urls import reverse

    page = absolute(reverse("deployment_drift", args=[project.slug, environment.name, deployment.target]))
    where = f"{project.slug} {environment.name}/{deployment.target}"
    if event == "drift.detected":
        resources = [
            {
                "address": resource.get("address"),
                "action": resource.get("action"),
                "dsl": resource.get("dsl"),
                "changed": [change.get("path") for change in resource.get("changes") or []],
            }
            for resource in (check.resources or [])[:RESOURCE_LIMIT]
        ]
        summary = {
            "check_id": check.pk,
            "version": check.artifact.version,
            "drifted": check.drifted_count,
            "resources": resources,
            "would_change": check.would_change,
        }
        names = ", ".join(r["address"] for r in resources[:3]) + ("…" if check.drifted_count > 3 else "")
        text = f"{where}: {check.drifted_count} resource(s) changed outside Hangar ({names})."
    else:
        summary = {
            "check_id": check.pk,
            "version": check.artifact.version,
            "previously_drifted": previous.drifted_addresses[:RESOURCE_LIMIT] if previous else [],
        }
        text = f"{where}: in sync again; nothing differs from what Hangar applied."
    return envelope(
        event,
        project=project,
        environment=environment.name,
        target=deployment.target,
        actor=_username(check.requested_by),
        url=page,
        text=text,
        summary=summary,
        at=check.finished_at,
    )


def sandbox_event(event: str, *, project, environment: str, name: str, expires_at=None, error: str = "",
                  actor: str | None = None, url: str = "") -> dict:  # fmt: skip
    summary = {"sandbox": name, "expires_at": _iso(expires_at)}
    if event == "sandbox.expiring":
        text = f"{project.slug}: sandbox {name} will be destroyed at {_iso(expires_at)}."
    elif event == "sandbox.destroyed":
        text = f"{project.slug}: sandbox {name} was destroyed."
    else:
        summary["error"] = (error or "")[:ERROR_LIMIT]
        text = f"{project.slug}: destroying sandbox {name} failed: {(error or '').strip()[:200]}"
    return envelope(event, project=project, environment=environment, target="local", actor=actor, url=url,
                    text=text, summary=summary)  # fmt: skip


def shared_change_event(change, run, outcome: str) -> dict:
    project = change.membership.project
    stage = run.deployment.environment.name if run is not None else None
    kind = "onboarding to" if change.kind == "onboard" else "offboarding from"
    if outcome == "succeeded":
        how = "finished: every stage is done"
    elif outcome == "superseded":
        how = f"stopped after {stage}: a newer change carries it on"
    else:
        how = f"stopped: its {stage} run {outcome}"
    summary = {
        "change_id": change.pk,
        "kind": change.kind,
        "version": change.version,
        "outcome": outcome,
        "stage": stage,
        "stages": {r.deployment.environment.name: r.status for r in _change_runs(change)},
    }
    return envelope(
        "shared_composer.change_finished",
        project=project,
        environment=stage,
        target=run.deployment.target if run is not None else None,
        run=run,
        actor=_username(change.requested_by),
        url=absolute(change.get_absolute_url()),
        text=f"{project.slug}: {kind} the shared Airflow ({change.version}) {how}.",
        summary=summary,
    )


def _change_runs(change) -> list:
    from onboarding.shared_composer.services import change_runs

    return change_runs(change)


def test_event(destination, user) -> dict:
    project = destination.project
    return envelope(
        TEST_EVENT,
        project=project,
        actor=_username(user),
        url=absolute(destination.get_absolute_url()),
        text=f"Test from Hangar: {destination.name} receives notifications.",
        summary={"destination": destination.name},
    )


def chat_message(payload: dict) -> dict:
    """A Slack-compatible message (`text` plus blocks), which most chat tools' incoming webhooks accept."""
    label = EVENTS[payload["event"]].label if payload["event"] in EVENTS else "Test"
    link = payload.get("url") or ""
    text = payload.get("text") or label
    fields = []
    if payload.get("project"):
        fields.append({"type": "mrkdwn", "text": f"*Project*\n{payload['project']['slug']}"})
    if payload.get("environment"):
        fields.append({"type": "mrkdwn", "text": f"*Environment*\n{payload['environment']}"})
    if payload.get("actor"):
        fields.append({"type": "mrkdwn", "text": f"*Who*\n{payload['actor']}"})
    blocks = [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": f"*{label}*\n{text}" + (f"\n<{link}|Open in Hangar>" if link else "")},
        }
    ]
    if fields:
        blocks.append({"type": "section", "fields": fields})
    return {"text": f"{label}: {text}", "blocks": blocks}
