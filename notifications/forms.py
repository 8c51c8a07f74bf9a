from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from notifications import addresses
from notifications.events import CHOICES, DEFAULT_EVENTS, DEFAULT_SUCCESS_ENVIRONMENTS, ENVIRONMENTS
from notifications.models import Destination


class DestinationForm(forms.Form):
    kind = forms.ChoiceField(choices=Destination.Kind.choices, initial=Destination.Kind.WEBHOOK)
    name = forms.CharField(max_length=100)
    url = forms.CharField(
        label="Address",
        required=False,
        max_length=2000,
        help_text="Webhook and chat: the https:// (or http://) address that receives a POST. Left empty when "
        "editing, the address stays as it is.",
    )
    events = forms.MultipleChoiceField(choices=CHOICES, initial=DEFAULT_EVENTS, widget=forms.CheckboxSelectMultiple)
    success_environments = forms.MultipleChoiceField(
        label="Run succeeded: only on",
        choices=[(env, env) for env in ENVIRONMENTS],
        initial=DEFAULT_SUCCESS_ENVIRONMENTS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    to_team = forms.ChoiceField(
        label="E-mail to",
        choices=[("team", "the whole team"), ("chosen", "the members chosen below")],
        initial="team",
        widget=forms.RadioSelect,
        required=False,
    )
    recipients = forms.ModelMultipleChoiceField(
        queryset=get_user_model().objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, project=None, editing: Destination | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.editing = editing
        users = get_user_model().objects.filter(is_active=True).order_by("username")
        self.fields["recipients"].queryset = users.filter(memberships__team=project.team) if project else users
        self.fields["recipients"].label_from_instance = lambda user: (
            user.get_username() + (f" <{user.email}>" if user.email else " (no e-mail address)")
        )
        if editing is not None:
            del self.fields["kind"]
            if not editing.is_http:
                del self.fields["url"]
            else:
                self.fields["url"].widget.attrs["placeholder"] = editing.url_display

    def clean(self):
        data = super().clean()
        kind = data.get("kind") or (self.editing.kind if self.editing else "")
        url = (data.get("url") or "").strip()
        if kind in (Destination.Kind.WEBHOOK, Destination.Kind.CHAT) and "url" in self.fields:
            if url:
                try:
                    addresses.resolve(url)
                except ValidationError as error:
                    self.add_error("url", error)
            elif self.editing is None:
                self.add_error("url", "Give the address that receives the POST.")
        return data

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "events": data["events"],
            "url": data.get("url", ""),
            "to_team": data.get("to_team") != "chosen",
            "recipients": list(data.get("recipients") or []),
            "success_environments": data.get("success_environments") or [],
        }


class PreferenceForm(forms.Form):
    email_opt_out = forms.BooleanField(
        label="Send me no notification e-mail", required=False,
        help_text="From any project or destination. Webhooks and chat are not affected.",
    )  # fmt: skip
