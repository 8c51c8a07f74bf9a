import json

from django import forms

from deployments.runs import targets as run_targets
from deployments.runs.choices import RunStatus, Target


def is_pre_release(version: str) -> bool:
    """A semantic version with a `-suffix` (1.2.0-rc.1)."""
    return "-" in version


class DeployForm(forms.Form):
    """Environment, target and version of a run.

    The version defaults to the one deployed on the chosen environment + target, else to the
    newest version that is not a pre-release. Each version's label says where it is deployed,
    whether it is a pre-release and whether its last plan failed. `rows` are the deployments
    table's rows (deployments.pages.selectors.deployment_rows); artifacts may carry
    `last_plan_status` (deployments.pages.selectors.deploy_versions)."""

    environment = forms.ChoiceField()
    target = forms.ChoiceField(choices=Target.choices, initial=Target.LOCAL)
    version = forms.ChoiceField(
        help_text="Newest first. Defaults to the version deployed in the environment, else the newest release."
    )

    def __init__(self, *args, project, artifacts, rows=(), version=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Only targets runs may use here (HANGAR_TARGETS, provider in the offline mirror).
        self.fields["target"].choices = [
            (name, label) for name, label in Target.choices if name in run_targets.available()
        ]
        environments = list(project.environments.all())
        self.fields["environment"].choices = [(env.name, env.label) for env in environments]
        deployed_in: dict[int, list[str]] = {}
        defaults: dict[str, str] = {}  # "dev/local": the version deployed there
        for row in rows:
            artifact = row.deployment.deployed_artifact if row.deployment else None
            if artifact is not None:
                name = row.environment.name
                deployed_in.setdefault(artifact.pk, []).append(
                    name if row.target == Target.LOCAL else f"{name} ({row.target})"
                )
                defaults[f"{name}/{row.target}"] = artifact.version
        self.fields["version"].choices = [(a.version, version_label(a, deployed_in.get(a.pk, []))) for a in artifacts]
        releases = [a.version for a in artifacts if not is_pre_release(a.version)]
        fallback = releases[0] if releases else (artifacts[0].version if artifacts else "")
        widget = self.fields["version"].widget
        widget.attrs["data-defaults"] = json.dumps(defaults)
        widget.attrs["data-fallback"] = fallback
        if version in {a.version for a in artifacts}:
            self.fields["version"].initial = version
            widget.attrs["data-pinned"] = "true"  # asked for (?version=): the environment select leaves it be
        elif environments:
            self.fields["version"].initial = defaults.get(f"{environments[0].name}/{Target.LOCAL}", fallback)


def version_label(artifact, deployed_in: list[str]) -> str:
    marks = []
    if deployed_in:
        marks.append(f"deployed in {', '.join(deployed_in)}")
    if is_pre_release(artifact.version):
        marks.append("pre-release")
    if getattr(artifact, "last_plan_status", None) == RunStatus.FAILED:
        marks.append("last plan failed")
    return artifact.version + "".join(f" ({mark})" for mark in marks)
