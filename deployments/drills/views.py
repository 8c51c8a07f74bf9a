"""The drill's button (on the Operations page) and a drill's report page; admins only."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from deployments.drills.selectors import drill_for_user, drill_rows
from deployments.drills.services import drill_start
from onboarding.models import Project


@require_POST
def recovery_drill_start(request):
    if not request.user.is_staff:
        raise PermissionDenied("Recovery drills are for Hangar's admins.")
    slug = request.POST.get("project", "").strip()
    project = get_object_or_404(Project, slug=slug) if slug else None
    drill = drill_start(user=request.user, project=project)
    messages.success(request, f"Recovery drill #{drill.pk} started ({drill.scope}).")
    return redirect(drill)


def recovery_drill_detail(request, pk):
    drill = drill_for_user(request.user, pk)
    return render(request, "deployments/recovery_drill.html", {"drill": drill, "rows": drill_rows(drill)})
