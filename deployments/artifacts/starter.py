"""A starter repository for a new project: the layout the builder expects, ready to build."""

from __future__ import annotations

import json

from deployments.artifacts.project_file import ENVIRONMENTS, ProjectInfo
from deployments.artifacts.zip_writer import deterministic_zip

README = """\
# {slug}

The repository of Hangar project `{slug}` (team `{team}`).

| folder | what lives there |
|---|---|
| `dags/` | Airflow DAGs |
| `doc/` | documentation of the project |
| `infrastructure/<env>/main.yaml` | the infrastructure of each environment (dev, test, prod) in Hangar's DSL |
| `infrastructure/bq_schemas/` | BigQuery JSON schemas, shared by all environments |
| `requirements/` | Python requirements of the DAGs and `src/` |
| `src/` | the project's Python code |

## Change the infrastructure

Edit `infrastructure/<env>/main.yaml`; the DSL is described in Hangar's `docs/dsl.md`.
A difference between environments is simply a difference between their files.

## Build and upload

With Hangar's command line, `hangar` (`pip install` of Hangar's repository; see its docs/cli.md),
in this folder:

    hangar validate                          # every problem as file:line:col: message
    hangar build --version 0.1.0             # writes dist/{slug}-0.1.0.zip
    hangar upload dist/{slug}-0.1.0.zip
    hangar deploy --env dev --version 0.1.0 --wait

Set `HANGAR_URL` and `HANGAR_TOKEN` (a token from your profile's Tokens page, or a CI token from
the project's Details tab), or run `hangar login` once. You can also upload the zip on the
project's page in Hangar and press DEPLOY there. Versions are semantic (0.1.0, 0.1.1, ...): each
upload needs a new one.
"""

MAIN_YAML = """\
# {env} infrastructure of {slug}. Reference: Hangar's docs/dsl.md.
infrastructure:
  gcp:
    datasets:
      - name: {dataset}
        parameters:
          description: Tables of {slug} ({env})
        tables:
          - name: example
            parameters:
              description: An example table; rename or remove it
              schema: "file:bq_schemas/example.json"
              time_partitioning:
                type: DAY
                field: dt
    # An Airflow environment of your own (the organisation's defaults apply):
    # composers:
    #   - name: {name}-composer
"""

EXAMPLE_SCHEMA = [
    {"name": "dt", "type": "DATE", "mode": "REQUIRED", "description": "Day the row belongs to"},
    {"name": "value", "type": "STRING", "mode": "NULLABLE"},
]


def starter_files(*, project: ProjectInfo) -> dict[str, bytes]:
    """Files of a starter repository (path → content) for one project."""
    values = {"slug": project.slug, "team": project.team, "name": project.name}
    dataset = project.name.replace("-", "_")
    files = {
        "README.md": README.format(**values),
        ".gitignore": "dist/\n__pycache__/\n",
        "hangar.yaml": project.render(),
        "dags/README.md": "Airflow DAGs of the project.\n",
        "doc/README.md": f"Documentation of {project.slug}.\n",
        "requirements/requirements.txt": "# Python requirements of the DAGs and src/, pinned: name==version\n",
        "src/README.md": "The project's Python code.\n",
        "infrastructure/bq_schemas/example.json": json.dumps(EXAMPLE_SCHEMA, indent=2) + "\n",
    }
    for env in ENVIRONMENTS:
        files[f"infrastructure/{env}/main.yaml"] = MAIN_YAML.format(env=env, dataset=dataset, **values)
    return {path: text.encode() for path, text in files.items()}


def starter_repository(*, service_control_id: int, name: str, team: str) -> bytes:
    """A zip of the starter repository; it builds into a valid artifact as it is."""
    project = ProjectInfo(service_control_id=service_control_id, name=name, team=team)
    return deterministic_zip({f"{project.slug}/{path}": data for path, data in starter_files(project=project).items()})
