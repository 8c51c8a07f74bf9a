import json
import subprocess
import sys
from pathlib import Path

from deployments.runs.models import Run
from tests.deployments.conftest import ROOT, wait_for


def wait_finished(run: Run, timeout: float = 240) -> Run:
    def finished():
        run.refresh_from_db()
        return run.is_finished

    wait_for(finished, timeout=timeout, message=f"run #{run.pk} to finish (status {run.status})")
    return run


def localcloud_resources(root: Path, project_id: str) -> list[dict]:
    out = subprocess.run(
        [sys.executable, "-m", "localcloud", "--root", str(root), "list", "--project", project_id],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def names_by_type(resources: list[dict]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for resource in resources:
        found.setdefault(resource["type"], set()).add(resource["name"])
    return found
