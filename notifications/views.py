"""Pages: a project's Notifications tab, the admins' destinations for all projects, a destination with its
delivery log, and each user's e-mail preference. Team leads (and admins) manage; the rest of the team reads;
anyone else gets 404."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from notifications import services
from notifications.events import EVENTS
from notifications.forms import DestinationForm, PreferenceForm
from notifications.models import Delivery, DeliveryAttempt, Destination, NotificationPreference
from onboarding.access import project_for_user
from onboarding.tabs import PROJECT_TABS

LOG_LENGTH = 50


def _destinations(queryset):
    return queryset.prefetch_related("recipients").order_by("name", "id")


def _create(request, project):
    """The add form's POST: on success the destination's page, with its secret shown this once."""
    if not services.can_manage(request.user, project):
        raise PermissionDenied("Only team leads (and admins) manage notifications.")
    form = DestinationForm(request.POST, project=project)
    if form.is_valid():
        try:
            saved = services.destination_create(
                user=request.user, project=project, kind=form.cleaned_data["kind"], **form.service_arguments()
            )
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, f"Added {saved.destination.name}.")
            return _detail(request, saved.destination, secret=saved.secret, status=201)
    return form


def project_notifications(request, slug):
    project = project_for_user(request.user, slug)
    may_manage = services.can_manage(request.user, project)
    form = DestinationForm(project=project) if may_manage else None
    if request.method == "POST":
        result = _create(request, project)
        if not isinstance(result, DestinationForm):
            return result
        form = result
    context = {
        "project": project,
        "tabs": PROJECT_TABS,
        "tab": "notifications",
        "destinations": _destinations(Destination.objects.filter(project=project)),
        "may_manage": may_manage,
        "form": form,
        "events": EVENTS,
    }
    return render(
        request, "notifications/project_notifications.html", context, status=400 if form and form.errors else 200
    )


def global_notifications(request):
    """Admins: destinations that receive the events of every project."""
    if not request.user.is_superuser:
        raise PermissionDenied("Only admins manage the notifications of all projects.")
    form = DestinationForm()
    if request.method == "POST":
        result = _create(request, None)
        if not isinstance(result, DestinationForm):
            return result
        form = result
    context = {"destinations": _destinations(Destination.objects.filter(project__isnull=True)), "form": form,
               "may_manage": True, "events": EVENTS}  # fmt: skip
    return render(request, "notifications/global.html", context, status=400 if form.errors else 200)


def _visible(request, pk) -> Destination:
    return get_object_or_404(services.visible_destinations(request.user), pk=pk)


def _log(destination: Destination):
    attempts = Prefetch("attempt_log", queryset=DeliveryAttempt.objects.order_by("number"))
    return list(destination.deliveries.select_related("requested_by").prefetch_related(attempts)[:LOG_LENGTH])


def _detail(request, destination: Destination, *, secret: str = "", status: int = 200, form=None):
    may_manage = services.can_manage(request.user, destination.project)
    deliveries = _log(destination)
    if may_manage and form is None:
        form = DestinationForm(
            project=destination.project,
            editing=destination,
            initial={
                "name": destination.name,
                "events": destination.events,
                "success_environments": destination.success_environments,
                "to_team": "team" if destination.to_team else "chosen",
                "recipients": list(destination.recipients.all()),
            },
        )
    context = {
        "destination": destination,
        "project": destination.project,
        "deliveries": deliveries,
        "pending": any(delivery.status == Delivery.Status.PENDING for delivery in deliveries),
        "may_manage": may_manage,
        "secret": secret,
        "form": form,
        "events": EVENTS,
    }
    return render(request, "notifications/destination_detail.html", context, status=status)


def destination_detail(request, pk):
    return _detail(request, _visible(request, pk))


def destination_log(request, pk):
    """The delivery log alone (htmx refreshes it while a delivery is being sent)."""
    destination = _visible(request, pk)
    deliveries = _log(destination)
    context = {
        "destination": destination,
        "deliveries": deliveries,
        "pending": any(delivery.status == Delivery.Status.PENDING for delivery in deliveries),
        "may_manage": services.can_manage(request.user, destination.project),
    }
    return render(request, "notifications/partials/delivery_log.html", context)


@require_POST
def destination_edit(request, pk):
    destination = _visible(request, pk)
    if not services.can_manage(request.user, destination.project):
        raise PermissionDenied("Only team leads (and admins) manage notifications.")
    form = DestinationForm(request.POST, project=destination.project, editing=destination)
    if form.is_valid():
        try:
            services.destination_update(destination=destination, user=request.user, **form.service_arguments())
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, f"Saved {destination.name}.")
            return redirect(destination.get_absolute_url())
    return _detail(request, destination, form=form, status=400)


@require_POST
def destination_test(request, pk):
    destination = _visible(request, pk)
    services.send_test(destination=destination, user=request.user)
    messages.success(request, "Test sent; its delivery is in the log below.")
    return redirect(destination.get_absolute_url())


@require_POST
def destination_resume(request, pk):
    destination = _visible(request, pk)
    services.destination_resume(destination=destination, user=request.user)
    messages.success(request, f"{destination.name} receives events again.")
    return redirect(destination.get_absolute_url())


@require_POST
def destination_secret(request, pk):
    """A new signing secret, shown this once; the old one stops working at once."""
    destination = _visible(request, pk)
    try:
        secret = services.destination_rotate_secret(destination=destination, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(destination.get_absolute_url())
    messages.success(request, "New signing secret made; the old one no longer verifies.")
    return _detail(request, destination, secret=secret)


@require_POST
def destination_delete(request, pk):
    destination = _visible(request, pk)
    project = destination.project
    services.destination_delete(destination=destination, user=request.user)
    messages.success(request, f"Deleted {destination.name}.")
    if project is None:
        return redirect("notifications_global")
    return redirect("project_notifications", slug=project.slug)


@require_POST
def delivery_redeliver(request, pk):
    delivery = get_object_or_404(Delivery.objects.select_related("destination__project"), pk=pk)
    if not services.visible_destinations(request.user).filter(pk=delivery.destination_id).exists():
        raise Http404("No such delivery.")
    services.redeliver(delivery=delivery, user=request.user)
    messages.success(request, f"Delivery #{delivery.pk} sent again.")
    return redirect(delivery.destination.get_absolute_url())


def profile(request):
    preference, _ = NotificationPreference.objects.get_or_create(user=request.user)
    form = PreferenceForm(
        request.POST if request.method == "POST" else None, initial={"email_opt_out": preference.email_opt_out}
    )
    if request.method == "POST" and form.is_valid():
        preference.email_opt_out = form.cleaned_data["email_opt_out"]
        preference.save(update_fields=["email_opt_out"])
        messages.success(
            request, "Saved." + (" You receive no notification e-mail." if preference.email_opt_out else "")
        )
        return redirect("profile")
    return render(request, "notifications/profile.html", {"form": form, "preference": preference})
