"""hangar.yaml: which Hangar project a repository (and an artifact) belongs to."""

from __future__ import annotations

import re
from dataclasses import dataclass

from yaml.nodes import MappingNode, ScalarNode

from deployments.dsl.errors import DslError, DslProblem, did_you_mean, quoted_list
from deployments.dsl.yaml_loader import load_yaml, mapping_pairs, problem_at, scalar_value

PROJECT_FILE = "hangar.yaml"
PROJECT_KEYS = ("service_control_id", "name", "team")
PROJECT_NAME = re.compile(r"^[a-z](?:[a-z0-9-]*[a-z0-9])?$")
TEAM_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?$")
ENVIRONMENTS = ("dev", "test", "prod")
MAX_CLOUD_PROJECT_ID = 30  # GCP's limit for project ids such as sc-123-example-prod


@dataclass(frozen=True)
class ProjectInfo:
    service_control_id: int
    name: str
    team: str

    @property
    def slug(self) -> str:
        return f"sc-{self.service_control_id}-{self.name}"

    def render(self) -> str:
        return f"service_control_id: {self.service_control_id}\nname: {self.name}\nteam: {self.team}\n"


def parse_project_file(*, text: str | bytes, filename: str = PROJECT_FILE) -> ProjectInfo:
    """Read hangar.yaml; raise DslError listing every problem."""
    root = load_yaml(text=text, filename=filename)
    problems: list[DslProblem] = []
    if not isinstance(root, MappingNode):
        raise DslError(
            [DslProblem(filename, 1, 1, f"{filename} must be a mapping with keys {quoted_list(PROJECT_KEYS)}")]
        )
    values: dict[str, object] = {}
    for key, value in mapping_pairs(root, filename, problems):
        name = str(scalar_value(key))
        if name not in PROJECT_KEYS:
            hint = did_you_mean(name, PROJECT_KEYS)
            problems.append(
                problem_at(filename, key, f"unknown key '{name}';{hint} allowed: {quoted_list(PROJECT_KEYS)}")
            )
        elif not isinstance(value, ScalarNode):
            problems.append(problem_at(filename, value, f"'{name}' must be a single value"))
        else:
            values[name] = (scalar_value(value), value)
    for name in PROJECT_KEYS:
        if name not in values:
            problems.append(DslProblem(filename, 1, 1, f"missing key '{name}'"))
    scid = name_value = team = None
    if "service_control_id" in values:
        raw, node = values["service_control_id"]
        if isinstance(raw, bool) or not str(raw).isdigit() or int(str(raw)) <= 0:
            problems.append(problem_at(filename, node, f"service_control_id must be a positive number; found '{raw}'"))
        else:
            scid = int(str(raw))
    if "name" in values:
        raw, node = values["name"]
        if not isinstance(raw, str) or not PROJECT_NAME.fullmatch(raw):
            problems.append(
                problem_at(
                    filename,
                    node,
                    f"name '{raw}' is not allowed: use lower-case letters, digits and '-', starting with a letter",
                )
            )
        else:
            name_value = raw
    if "team" in values:
        raw, node = values["team"]
        if not isinstance(raw, str) or not TEAM_SLUG.fullmatch(raw):
            problems.append(
                problem_at(filename, node, f"team '{raw}' is not a team slug: lower-case letters, digits, '-' and '_'")
            )
        else:
            team = raw
    if scid is not None and name_value is not None:
        longest = f"sc-{scid}-{name_value}-prod"
        if len(longest) > MAX_CLOUD_PROJECT_ID:
            problems.append(
                problem_at(
                    filename,
                    values["name"][1],
                    f"project id '{longest}' would be {len(longest)} characters; cloud project ids have at most "
                    f"{MAX_CLOUD_PROJECT_ID}",
                )
            )
    if problems:
        raise DslError(problems)
    return ProjectInfo(service_control_id=scid, name=name_value, team=team)
