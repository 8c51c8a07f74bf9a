"""One row of the deployments table (environment + target), as its own pages see it."""

from django.http import Http404

from deployments.runs.choices import Target
from deployments.runs.models import Deployment
from onboarding.models import Environment
from onboarding.tabs import PROJECT_TABS

# The address of one row's pages: History, State.
ROW = "projects/<slug:slug>/deployments/<slug:environment>/<slug:target>/"


def row_environments(project):
    """The environments whose rows have pages: dev, test, prod and the project's sandboxes (their history and
    state stay after they are destroyed)."""
    return Environment.all_objects.filter(project=project)


def row_deployment(project, environment: str, target: str) -> Deployment | None:
    if target not in Target.values or not row_environments(project).filter(name=environment).exists():
        raise Http404("No such environment or target.")
    rows = Deployment.objects.filter(environment__project=project, environment__name=environment, target=target)
    return rows.select_related("deployed_artifact").first()


def row_context(project, environment: str, target: str, deployment: Deployment | None) -> dict:
    """What the pages of one deployments-table row (history, state) show around their content."""
    return {
        "project": project,
        "tabs": PROJECT_TABS,
        "tab": "deployments",
        "environment": row_environments(project).get(name=environment),
        "target": target,
        "deployment": deployment,
    }
