"""The shared Airflow's platform team and project exist from the start (docs/shared-composer.md).

Creating them here, rather than lazily at the first onboarding, means nobody can take their
names first: the pages and the API refuse the reserved team name and project (onboarding.reserved).
The team gets no lead: leads are named with `manage.py setup_shared_composer --lead USERNAME`.
Names come from the SHARED_COMPOSER_* settings at migration time; when they change later,
`setup_shared_composer` creates the new ones. Idempotent; existing rows are kept as they are.
"""

import re

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import migrations

SYSTEM_USERNAME = "hangar-shared-composer"  # onboarding.shared_composer.SYSTEM_USERNAME
ENVIRONMENTS = ("dev", "test", "prod")
REASON = "reserved for the shared Airflow platform (migration onboarding 0004)"


def create_platform_identity(apps, schema_editor):
    Team = apps.get_model("onboarding", "Team")
    Membership = apps.get_model("onboarding", "Membership")
    Project = apps.get_model("onboarding", "Project")
    Environment = apps.get_model("onboarding", "Environment")
    AuditEvent = apps.get_model("portal", "AuditEvent")
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))

    scid = int(settings.SHARED_COMPOSER_SERVICE_CONTROL_ID)
    name = settings.SHARED_COMPOSER_NAME
    slug = f"sc-{scid}-{name}"
    team_name = settings.SHARED_COMPOSER_TEAM
    team_slug = re.sub(r"[^a-z0-9_-]+", "-", team_name.lower()).strip("-") or "platform"

    def audit(action, obj, shown, **details):
        AuditEvent.objects.create(
            actor=None,
            actor_name="system",
            action=action,
            object_type=f"onboarding.{type(obj).__name__}",
            object_id=str(obj.pk),
            object_repr=shown[:200],
            details={**details, "reason": REASON},
        )

    bot = User.objects.filter(username=SYSTEM_USERNAME).first()
    if bot is None:
        bot = User.objects.create(username=SYSTEM_USERNAME, is_active=False, password=make_password(None))

    project = Project.objects.filter(slug=slug).first()
    if project is not None:
        team = project.team
    else:
        team = Team.objects.filter(slug=team_slug).first()
        if team is None:
            team = Team.objects.create(name=team_name, slug=team_slug)
            audit("team.create", team, team.name, name=team_name)
    if not Membership.objects.filter(team=team, user=bot).exists():
        Membership.objects.create(team=team, user=bot, role="member")
        audit("team.member_add", team, team.name, user=SYSTEM_USERNAME, role="member")
    if project is None:
        project = Project.objects.create(team=team, service_control_id=scid, name=name, slug=slug, created_by=bot)
        for position, env in enumerate(ENVIRONMENTS):
            Environment.objects.get_or_create(
                project=project, name=env, defaults={"gcp_project_id": f"{slug}-{env}", "position": position}
            )
        audit("project.register", project, slug, team=team.slug)


class Migration(migrations.Migration):
    dependencies = [
        ("onboarding", "0003_prod_approval"),
        ("portal", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(create_platform_identity, migrations.RunPython.noop)]
