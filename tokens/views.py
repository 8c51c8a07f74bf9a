"""The profile's Tokens page and the CI tokens of a project's Details tab. A new key is shown once,
on the page that answers its creation; Hangar keeps only its digest."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from onboarding.access import is_team_lead, project_for_user
from onboarding.tabs import PROJECT_TABS
from tokens import services
from tokens.models import DEFAULT_EXPIRY_DAYS, EXPIRY_CHOICES, ApiToken, Kind
from tokens.selectors import personal_tokens, project_token_context


def _errors(error: ValidationError) -> list[str]:
    if hasattr(error, "message_dict"):
        return [message for messages_ in error.message_dict.values() for message in messages_]
    return error.messages


def profile_tokens(request):
    new_key, new_token, errors = None, None, []
    if request.method == "POST":
        try:
            new_token, new_key = services.create_personal_token(
                user=request.user,
                name=request.POST.get("name", ""),
                days=request.POST.get("expires_in_days"),
                by=request.user,
            )
        except (ValidationError, PermissionDenied) as error:
            errors = _errors(error) if isinstance(error, ValidationError) else [str(error)]
    return render(
        request,
        "tokens/profile_tokens.html",
        {
            "tokens": personal_tokens(request.user),
            "new_key": new_key,
            "new_token": new_token,
            "errors": errors,
            "expiry_choices": EXPIRY_CHOICES,
            "default_days": DEFAULT_EXPIRY_DAYS,
            "form_name": request.POST.get("name", "") if errors else "",
        },
        status=201 if new_key else (400 if errors else 200),
    )


@require_POST
def profile_token_revoke(request, digest):
    token = get_object_or_404(ApiToken, digest=digest, user=request.user, kind=Kind.PERSONAL)
    if services.revoke_token(token=token, by=request.user):
        messages.success(request, f"Token {token.name} revoked: it no longer works.")
    return redirect("profile_tokens")


def project_token_create(request, slug):
    project = project_for_user(request.user, slug)
    if request.method != "POST":
        return redirect("project_details", slug=slug)
    new_key, new_token, errors = None, None, []
    try:
        new_token, new_key = services.create_project_token(
            project=project,
            name=request.POST.get("name", ""),
            role=request.POST.get("role", ""),
            days=request.POST.get("expires_in_days"),
            by=request.user,
        )
    except ValidationError as error:
        errors = _errors(error)
    except PermissionDenied as error:
        errors = [str(error)]
    context = {
        "project": project,
        "environments": project.environments.all(),
        "tabs": PROJECT_TABS,
        "tab": "details",
        "is_lead": is_team_lead(request.user, project.team),
        **project_token_context(project),
        "new_key": new_key,
        "new_token": new_token,
        "token_errors": errors,
    }
    status = 201 if new_key else (403 if not context["is_lead"] else 400)
    return render(request, "onboarding/project_details.html", context, status=status)


@require_POST
def project_token_revoke(request, slug, digest):
    project = project_for_user(request.user, slug)
    token = get_object_or_404(ApiToken, digest=digest, project=project, kind=Kind.PROJECT)
    try:
        if services.revoke_token(token=token, by=request.user):
            messages.success(request, f"CI token {token.name} revoked: it no longer works.")
    except PermissionDenied as error:
        messages.error(request, str(error))
    return redirect("project_details", slug=slug)
