"""Where a main.yaml uses the `shared:` section of a composer, read without validating the rest.

The upload checks use it: `shared:` (the Managed Shared Composer) belongs only to the platform
project, and the members it lists are the other projects the platform project's Terraform may name.
The builder validates the section fully (validation.py) but cannot know a project's role.
"""

from __future__ import annotations

from dataclasses import dataclass

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from deployments.dsl.errors import DslError, DslProblem
from deployments.dsl.yaml_loader import load_yaml, mapping_pairs, position


@dataclass(frozen=True)
class SharedSection:
    composer: str
    line: int
    column: int
    member_project_ids: tuple[str, ...]


def shared_sections(*, text: str | bytes, filename: str) -> tuple[list[SharedSection], list[DslProblem]]:
    """Every composer's `shared:` section of one main.yaml, with the members' cloud project ids."""
    problems: list[DslProblem] = []
    try:
        root = load_yaml(text=text, filename=filename)
    except DslError as exc:
        return [], list(exc.problems)
    found: list[SharedSection] = []
    composers = _get(_get(_get(root, "infrastructure", filename, problems), "gcp", filename, problems), "composers",
                     filename, problems)  # fmt: skip
    for composer in composers.value if isinstance(composers, SequenceNode) else []:
        if not isinstance(composer, MappingNode):
            continue
        pairs = {key.value: (key, value) for key, value in mapping_pairs(composer, filename, problems)}
        if "shared" not in pairs:
            continue
        key, shared = pairs["shared"]
        name = pairs.get("name", (None, None))[1]
        members = _get(shared, "members", filename, problems)
        ids = []
        for member in members.value if isinstance(members, SequenceNode) else []:
            project_id = _get(member, "project_id", filename, problems)
            if isinstance(project_id, ScalarNode):
                ids.append(str(project_id.value))
        line, column = position(key)
        found.append(
            SharedSection(
                composer=str(name.value) if isinstance(name, ScalarNode) else "?",
                line=line,
                column=column,
                member_project_ids=tuple(ids),
            )
        )
    return found, problems


def _get(node: Node | None, key: str, filename: str, problems: list[DslProblem]) -> Node | None:
    if not isinstance(node, MappingNode):
        return None
    for name, value in mapping_pairs(node, filename, problems):
        if name.value == key:
            return value
    return None
