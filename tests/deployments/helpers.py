from deployments.runs.models import Run
from localcloud.launcher import ServerProcess
from tests.deployments.conftest import wait_for
from tests.localcloud_fixtures import localcloud_cli


def wait_finished(run: Run, timeout: float = 240) -> Run:
    def finished():
        run.refresh_from_db()
        return run.is_finished

    wait_for(finished, timeout=timeout, message=f"run #{run.pk} to finish (status {run.status})")
    return run


def localcloud_resources(cloud: ServerProcess, project_id: str) -> list[dict]:
    """What the local cloud really has in a project, as the operator's CLI lists it."""
    return localcloud_cli("--url", cloud.url, "list", "--project", project_id)  # type: ignore[return-value]


def names_by_type(resources: list[dict]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for resource in resources:
        found.setdefault(resource["type"], set()).add(resource["name"])
    return found
