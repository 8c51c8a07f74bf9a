"""Accounts and API tokens are audited however they are made: admin, createsuperuser, the shell,
`ensure_admin`, DRF's obtain-token view. Saving is the one place all of them pass through."""

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from rest_framework.authtoken.models import Token

from portal.audit import audit_record, current_actor


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="portal.audit.user_created")
def user_created(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        audit_record(
            actor=current_actor(),
            action="user.create",
            obj=instance,
            username=instance.get_username(),
            is_staff=instance.is_staff,
            is_superuser=instance.is_superuser,
        )


@receiver(post_save, sender=Token, dispatch_uid="portal.audit.token_created")
def token_created(sender, instance, created, raw=False, **kwargs):
    if created and not raw:  # never the key itself: the trail names whose token it is
        audit_record(actor=current_actor(), action="api_token.create", obj=instance.user)


@receiver(post_delete, sender=Token, dispatch_uid="portal.audit.token_deleted")
def token_deleted(sender, instance, **kwargs):
    audit_record(actor=current_actor(), action="api_token.delete", obj=instance.user)
