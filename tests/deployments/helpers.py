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


def wait_planned(run: Run, timeout: float = 240) -> Run:
    """Wait until a run's saved plan waits for a person (or the run ended, which the caller checks)."""

    def parked():
        run.refresh_from_db()
        return run.awaiting_confirmation or run.is_finished

    wait_for(parked, timeout=timeout, message=f"run #{run.pk} to wait for a confirmation (status {run.status})")
    return run


def localcloud_resources(cloud: ServerProcess, project_id: str) -> list[dict]:
    """What the local cloud really has in a project, as the operator's CLI lists it."""
    return localcloud_cli("--url", cloud.url, "list", "--project", project_id)  # type: ignore[return-value]


def names_by_type(resources: list[dict]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for resource in resources:
        found.setdefault(resource["type"], set()).add(resource["name"])
    return found


def _proc_stat(pid: int) -> tuple[str, str, int, int] | None:
    """(command name, state, parent pid, process group) of a process, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            text = stat.read()
    except OSError:
        return None
    comm, fields = text.split(" (", 1)[1].rsplit(") ", 1)
    parts = fields.split()
    return comm, parts[0], int(parts[1]), int(parts[2])


def _all_pids() -> list[int]:
    import os

    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def process_group_alive(group: int) -> list[int]:
    """Live (not zombie) processes of a process group."""
    found = []
    for pid in _all_pids():
        stat = _proc_stat(pid)
        if stat and stat[3] == group and stat[1] != "Z":
            found.append(pid)
    return found


def terraform_descendants(root: int) -> list[int]:
    """Live Terraform processes started, at any depth, by process `root` (a worker)."""
    parents: dict[int, int] = {}
    names: dict[int, tuple[str, str]] = {}
    for pid in _all_pids():
        stat = _proc_stat(pid)
        if stat:
            parents[pid], names[pid] = stat[2], (stat[0], stat[1])
    found = []
    for pid, (comm, state) in names.items():
        if comm != "terraform" or state == "Z":
            continue
        ancestor = parents.get(pid)
        while ancestor and ancestor != root:
            ancestor = parents.get(ancestor)
        if ancestor == root:
            found.append(pid)
    return found


def terraform_processes_using(marker: str) -> list[int]:
    """Live Terraform processes whose environment mentions `marker` (a test's own workspace folder).

    Found by environment rather than ancestry: a killed worker's Terraform would be re-parented."""
    found = []
    for pid in _all_pids():
        stat = _proc_stat(pid)
        if not stat or stat[0] != "terraform" or stat[1] == "Z":
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as environ:
                if marker.encode() in environ.read():
                    found.append(pid)
        except OSError:
            continue
    return found


def assert_recovered(deployment, *, workspace_dir) -> None:
    """What every fault must leave behind: final runs, valid forward-only state, no Terraform, no lost line."""
    import json

    from deployments.runs.choices import FINAL_STATUSES
    from deployments.state.models import StateVersion

    runs = list(Run.objects.filter(deployment=deployment).order_by("id"))
    assert runs and all(run.status in FINAL_STATUSES for run in runs), [(r.pk, r.status) for r in runs]
    deployment.refresh_from_db()
    assert deployment.active_run_id is None and deployment.lock_id == ""
    serials = []
    for version in StateVersion.objects.filter(deployment=deployment).order_by("id"):
        state = json.loads(bytes(version.data))
        assert state["serial"] == version.serial and state["lineage"] == version.lineage
        serials.append(version.serial)
    assert serials == sorted(set(serials)), serials
    for run in runs:
        seqs = list(run.log_lines.order_by("seq").values_list("seq", flat=True))
        assert seqs == list(range(1, len(seqs) + 1)), f"run #{run.pk} lost log lines: {seqs}"
    assert terraform_processes_using(str(workspace_dir)) == [], "a Terraform process outlived its run"
