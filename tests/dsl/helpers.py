from pathlib import Path

from deployments.dsl import DslError, parse_environment

FILENAME = "infrastructure/dev/main.yaml"


def problems_of(text: str, infrastructure_dir: Path) -> list[str]:
    """Every problem of a main.yaml as 'file:line:col: message'."""
    try:
        parse_environment(text=text, filename=FILENAME, infrastructure_dir=infrastructure_dir)
    except DslError as exc:
        return [str(problem) for problem in exc.problems]
    return []
