from django import forms

from deployments.runs.choices import Target


class DeployForm(forms.Form):
    environment = forms.ChoiceField()
    target = forms.ChoiceField(choices=Target.choices, initial=Target.LOCAL)
    version = forms.ChoiceField(help_text="Newest first.")

    def __init__(self, *args, project, artifacts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["environment"].choices = [(env.name, env.label) for env in project.environments.all()]
        self.fields["version"].choices = [(a.version, a.version) for a in artifacts]
