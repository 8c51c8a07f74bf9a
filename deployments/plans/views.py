"""The page of a speculative plan: what an uploaded version would change in one environment."""

from django.shortcuts import render

from deployments.plans.selectors import speculative_plan_for_user, speculative_readable


def speculative_plan_detail(request, pk):
    plan = speculative_plan_for_user(request.user, pk)
    project = plan.artifact.project
    return render(
        request,
        "deployments/speculative_plan.html",
        {"speculative": plan, "project": project, "artifact": plan.artifact, "plan": speculative_readable(plan)},
    )
