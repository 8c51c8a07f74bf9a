"""Accounts are audited however they are made: admin, createsuperuser, the shell, `ensure_admin`.
Saving is the one place all of them pass through. API tokens are audited by `tokens.services`,
the one place they are created and revoked."""

from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver

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
