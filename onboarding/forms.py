from django import forms
from django.core.exceptions import ValidationError
from django.utils.html import format_html

from onboarding.access import visible_projects
from onboarding.models import Project, Role, Team
from onboarding.naming import project_slug
from onboarding.reserved import project_refusal
from onboarding.services import project_identity_clean


class ProjectDetailsForm(forms.Form):
    """Step 1 of the registration wizard."""

    service_control_id = forms.CharField(
        label="Service Control Id",
        max_length=20,
        help_text="A positive whole number, e.g. 123 (SC-123 is accepted too).",
        widget=forms.TextInput(attrs={"autofocus": True, "inputmode": "numeric", "placeholder": "123"}),
    )
    name = forms.CharField(
        label="Project Name",
        max_length=40,
        help_text="Lowercase letters, digits and hyphens, starting with a letter.",
        widget=forms.TextInput(attrs={"placeholder": "example"}),
    )
    team = forms.ModelChoiceField(queryset=Team.objects.none(), empty_label=None)

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams
        self.fields["team"].to_field_name = "slug"

    def clean(self):
        data = super().clean()
        if "service_control_id" in data and "name" in data:
            try:
                scid, name, ids = project_identity_clean(
                    service_control_id=data["service_control_id"], name=data["name"]
                )
            except ValidationError as error:
                for field, messages in error.message_dict.items():
                    for message in messages:
                        self.add_error(field, message)
            else:
                data["service_control_id"], data["name"], data["environment_ids"] = scid, name, ids
                refusal = project_refusal(scid, name)
                if refusal:
                    self.add_error("name", refusal)
        return data


class RegisterProjectForm(ProjectDetailsForm):
    """Step 1 of the registration wizard: also refuses a project that exists already, before step 2
    promises to create it. The database constraint still decides a race (services.project_register)."""

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self):
        data = super().clean()
        if "environment_ids" not in data or self.has_error("name"):  # invalid, or reserved: said already
            return data
        existing = Project.objects.filter(service_control_id=data["service_control_id"], name=data["name"]).first()
        if existing is None:
            return data
        slug = project_slug(data["service_control_id"], data["name"])
        if visible_projects(self.user).filter(pk=existing.pk).exists():
            message = format_html(
                '{} is already registered in Hangar: <a href="{}">open it</a>, or choose another name.',
                slug,
                existing.get_absolute_url(),
            )
        else:
            message = (
                f"{slug} is already registered in Hangar by another team. Ask that team's lead for access, "
                "or choose another name."
            )
        raise ValidationError(message, code="already_registered")


class TeamForm(forms.Form):
    name = forms.CharField(max_length=100, widget=forms.TextInput(attrs={"autofocus": True}))


class MemberForm(forms.Form):
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MEMBER)
