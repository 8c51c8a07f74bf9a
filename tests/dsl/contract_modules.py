"""Stand-ins for the organisation's local modules, with exactly the agreed inputs and outputs.

Build and compiler tests use them so they depend on the module contract, not on
the modules' implementation; the `terraform` tests use the real modules.
"""

from pathlib import Path

STRING = "string"
LABELS = "map(string)"

CONTRACT: dict[str, tuple[dict[str, tuple[str, str | None]], list[str]]] = {
    # name: ({input: (type, default HCL or None for required)}, outputs)
    "dataset": (
        {
            "project_id": (STRING, None),
            "dataset_id": (STRING, None),
            "description": (STRING, '""'),
            "location": (STRING, '"EU"'),
            "team": (STRING, None),
            "labels": (LABELS, "{}"),
        },
        ["dataset_id", "id"],
    ),
    "table": (
        {
            "project_id": (STRING, None),
            "dataset_id": (STRING, None),
            "table_id": (STRING, None),
            "description": (STRING, '""'),
            "schema": (STRING, None),
            "team": (STRING, None),
            "labels": (LABELS, "{}"),
            "gdpr_labels": (LABELS, "{}"),
            "time_partitioning": (LABELS, "null"),
            "clustering": ("list(string)", "[]"),
        },
        ["table_id", "id"],
    ),
    "service_account": (
        {"project_id": (STRING, None), "account_id": (STRING, None), "display_name": (STRING, '""')},
        ["email", "id", "member"],
    ),
    "impersonation": (
        {"service_account_email": (STRING, None), "impersonator_email": (STRING, None)},
        ["id"],
    ),
    "composer_environment": (
        {
            "project_id": (STRING, None),
            "name": (STRING, None),
            "image_version": (STRING, '"composer-2.9.7-airflow-2.9.3"'),
            "airflow_config_overrides": (LABELS, "{}"),
            "pypi_packages": (LABELS, "{}"),
            "env_variables": (LABELS, "{}"),
            "team": (STRING, None),
            "labels": (LABELS, "{}"),
        },
        ["id", "dag_bucket", "dag_folder", "service_account", "airflow_uri"],
    ),
    "bucket_access": (
        {
            "bucket": (STRING, None),
            "prefix": (STRING, '""'),
            "role": (STRING, '"roles/storage.objectAdmin"'),
            "members": ("list(string)", None),
        },
        ["id"],
    ),
}


def write_contract_modules(root: Path, target: str = "local") -> Path:
    """terraform_modules-like folder under `root` with one stand-in module per contract entry."""
    for name, (inputs, outputs) in CONTRACT.items():
        folder = root / target / name
        folder.mkdir(parents=True, exist_ok=True)
        lines = []
        for variable, (kind, default) in inputs.items():
            lines.append(f'variable "{variable}" {{')
            lines.append(f"  type = {kind}")
            if default is not None:
                lines.append(f"  default = {default}")
            lines.append("}\n")
        for output in outputs:
            lines.append(f'output "{output}" {{\n  value = "{name}-{output}"\n}}\n')
        (folder / "main.tf").write_text("\n".join(lines))
        (folder / "VERSION").write_text("0.0.0-contract\n")
    return root
