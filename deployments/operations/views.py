"""The Operations page, for admins."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from deployments.drift.selectors import drifted_deployments
from deployments.drills.selectors import drillable_projects, recent_drills
from deployments.operations.selectors import operations_summary
from deployments.runs import sandbox
from deployments.sandboxes.selectors import failed_destroys


def operations(request):
    """For admins: how runs fare, what is stuck now, and adoption."""
    if not request.user.is_staff:
        raise PermissionDenied("The operations page is for Hangar's admins.")
    context = {
        **operations_summary(),
        "sandboxed": sandbox.enabled(),
        "drifted": drifted_deployments(),
        "failed_sandboxes": failed_destroys(),
        "drills": recent_drills(request.user),
        "drill_projects": drillable_projects(),
    }
    return render(request, "deployments/operations.html", context)
