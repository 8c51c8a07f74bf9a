"""Creating and revoking API tokens; every change is audited. The key is returned once, never stored."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from onboarding.access import ci_token_of, is_team_lead
from onboarding.models import Project
from portal.audit import audit_record
from tokens.models import DEFAULT_EXPIRY_DAYS, MAX_EXPIRY_DAYS, ApiToken, Kind, ProjectRole

NAME_MAX_LENGTH = 64


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": ["Give the token a name, e.g. the machine or pipeline that uses it."]})
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError({"name": [f"At most {NAME_MAX_LENGTH} characters."]})
    return name


def _clean_days(days) -> int:
    try:
        days = int(days)
    except (TypeError, ValueError):
        raise ValidationError({"expires_in_days": ["Give the lifetime in whole days."]}) from None
    if not 1 <= days <= MAX_EXPIRY_DAYS:
        raise ValidationError({"expires_in_days": [f"A token lives between 1 and {MAX_EXPIRY_DAYS} days."]})
    return days


def _audit(action: str, token: ApiToken, by) -> None:
    audit_record(
        actor=by,
        action=action,
        obj=token.project if token.project_id else token.user,
        token=token.name,
        kind=token.kind,
        owner=token.user.get_username(),
        role=token.role or None,
        expires_at=token.expiry.isoformat() if token.expiry else None,
        token_id=token.token_key,
    )


def create_personal_token(*, user, name: str, days=DEFAULT_EXPIRY_DAYS, by=None) -> tuple[ApiToken, str]:
    """A token acting as `user`; (token, key). `by` is recorded in the audit trail (None: the system, e.g. a command)."""
    if is_service_account(user):
        raise PermissionDenied("A CI token's service account cannot own personal tokens.")
    name, days = _clean_name(name), _clean_days(days)
    with transaction.atomic():
        if ApiToken.objects.filter(user=user, kind=Kind.PERSONAL, name=name, revoked_at=None).exists():
            raise ValidationError(
                {"name": [f"You already have a token named '{name}'; revoke it or pick another name."]}
            )
        token, key = ApiToken.objects.create(
            user=user, expiry=timedelta(days=days), name=name, kind=Kind.PERSONAL, created_by=by or user
        )
        _audit("api_token.create", token, by)
    return token, key


def service_account_name(*, name: str, lead) -> str:
    """How a CI token's runs, uploads and audit records name it: "CI token deploy (created by alice)"."""
    return f"CI token {name} (created by {lead.get_username()})"


def create_project_token(
    *, project: Project, name: str, role: str, days=DEFAULT_EXPIRY_DAYS, by
) -> tuple[ApiToken, str]:
    """A token acting as a service account of this project only, with the role given; only team leads."""
    if not is_team_lead(by, project.team):
        raise PermissionDenied(f"Only a team lead of {project.team} creates CI tokens for {project.slug}.")
    if role not in ProjectRole.values:
        raise ValidationError({"role": [f"Choose one of: {', '.join(ProjectRole.values)}."]})
    name, days = _clean_name(name), _clean_days(days)
    User = get_user_model()
    with transaction.atomic():
        Project.objects.select_for_update().filter(pk=project.pk).first()
        if ApiToken.objects.filter(project=project, name=name, revoked_at=None).exists():
            raise ValidationError(
                {"name": [f"{project.slug} already has a CI token named '{name}'; revoke it or pick another name."]}
            )
        username = _free_username(service_account_name(name=name, lead=by), project)
        account = User(username=username, is_active=True)
        account.set_unusable_password()
        account.save()
        token, key = ApiToken.objects.create(
            user=account,
            expiry=timedelta(days=days),
            name=name,
            kind=Kind.PROJECT,
            project=project,
            role=role,
            created_by=by,
        )
        account._hangar_ci_token = token
        _audit("api_token.create", token, by)
    return token, key


def _free_username(wanted: str, project: Project) -> str:
    """The readable name, made unique only when it must be (the same lead and name in another project, or again)."""
    User = get_user_model()
    limit = User._meta.get_field("username").max_length
    candidates = [wanted, f"{wanted} for {project.slug}"]
    for candidate in candidates:
        if not User.objects.filter(username=candidate[:limit]).exists():
            return candidate[:limit]
    number = 2
    while User.objects.filter(username=f"{candidates[1]} #{number}"[:limit]).exists():
        number += 1
    return f"{candidates[1]} #{number}"[:limit]


def may_revoke(user, token: ApiToken) -> bool:
    if user.is_superuser:
        return True
    if token.kind == Kind.PROJECT:
        return is_team_lead(user, token.project.team)
    return token.user_id == user.pk


def revoke_token(*, token: ApiToken, by) -> bool:
    """Revoke at once; False when it was already revoked. A CI token's service account is deactivated too."""
    if not may_revoke(by, token):
        raise PermissionDenied("You may not revoke this token.")
    with transaction.atomic():
        locked = ApiToken.objects.select_for_update().get(pk=token.pk)
        if locked.revoked_at:
            return False
        locked.revoked_at = timezone.now()
        locked.revoked_by = by if getattr(by, "is_authenticated", False) else None
        locked.save(update_fields=["revoked_at", "revoked_by"])
        if locked.kind == Kind.PROJECT:
            get_user_model().objects.filter(pk=locked.user_id).update(is_active=False)
        _audit("api_token.revoke", locked, by)
    token.revoked_at, token.revoked_by = locked.revoked_at, locked.revoked_by
    return True


def is_service_account(user) -> bool:
    return ci_token_of(user) is not None
