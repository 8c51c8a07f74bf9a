"""localcloud_dataset and localcloud_table."""

from collections.abc import Callable
from typing import Any

from tf.iface import (
    CreateContext,
    DeleteContext,
    ImportContext,
    PlanContext,
    ReadContext,
    UpdateContext,
    UpgradeContext,
)
from tf.schema import Attribute, Schema
from tf.types import Bool, List, Map, String, Unknown

from localcloud import bq_schema, validation
from localcloud.errors import Conflict, InvalidValue, LocalCloudError, NotFound
from localcloud.provider.base import LocalCloudResource, as_configured, is_known, report


def when_known(config: dict, key: str, check: Callable[[Any], Any]) -> None:
    value = config.get(key)
    if value is not None and is_known(value):
        check(value)


def split_id(value: str, pattern: list[str], field: str = "id") -> list[str]:
    """Values of the placeholders in an id such as projects/{}/datasets/{}."""
    parts = value.split("/")
    if len(parts) != len(pattern) or any(p != "{}" and p != v for p, v in zip(pattern, parts, strict=True)):
        raise InvalidValue(field, value, f"expected an id of the form {'/'.join(pattern).replace('{}', '<…>')}")
    return [v for p, v in zip(pattern, parts, strict=True) if p == "{}"]


class Dataset(LocalCloudResource):
    @classmethod
    def get_name(cls) -> str:
        return "dataset"

    @classmethod
    def get_schema(cls) -> Schema:
        return Schema(
            attributes=[
                Attribute("id", String(), computed=True, description="projects/<project>/datasets/<dataset_id>"),
                Attribute("project", String(), required=True, requires_replace=True),
                Attribute("dataset_id", String(), required=True, requires_replace=True),
                Attribute("description", String(), optional=True),
                Attribute("location", String(), optional=True, computed=True, default="EU", requires_replace=True),
                Attribute("labels", Map(String()), optional=True),
                Attribute("delete_contents_on_destroy", Bool(), optional=True, computed=True, default=False),
            ]
        )

    def check(self, config: dict) -> None:
        when_known(config, "project", validation.project_id)
        when_known(config, "dataset_id", validation.dataset_id)
        when_known(config, "location", validation.location)
        when_known(config, "labels", validation.labels)

    def _state(self, view: dict, reference: dict) -> dict:
        project, dataset_id = view["project"], view["dataset_id"]
        return {
            "id": f"projects/{project}/datasets/{dataset_id}",
            "project": project,
            "dataset_id": dataset_id,
            "description": as_configured(view["description"], reference.get("description")),
            "location": view["location"],
            "labels": as_configured(view["labels"], reference.get("labels")),
            "delete_contents_on_destroy": bool(reference.get("delete_contents_on_destroy")),
        }

    def create(self, ctx: CreateContext, planned: dict) -> dict | None:
        def run() -> dict:
            view = self.client.create_dataset(
                planned["project"],
                planned["dataset_id"],
                description=planned.get("description") or "",
                location=planned.get("location") or "EU",
                labels=planned.get("labels"),
            )
            return self._state(view, planned)

        return self.guard(ctx.diagnostics, run)

    def read(self, ctx: ReadContext, current: dict) -> dict | None:
        view = self.guard(ctx.diagnostics, lambda: self.client.get_dataset(current["project"], current["dataset_id"]))
        return self._state(view, current) if view else None

    def update(self, ctx: UpdateContext, current: dict, planned: dict) -> dict | None:
        def run() -> dict:
            view = self.client.update_dataset(
                planned["project"],
                planned["dataset_id"],
                description=planned.get("description") or "",
                labels=planned.get("labels"),
            )
            return self._state(view, planned)

        return self.guard(ctx.diagnostics, run, fallback=current)

    def delete(self, ctx: DeleteContext, current: dict) -> dict | None:
        def run() -> None:
            self.client.delete_dataset(
                current["project"], current["dataset_id"], bool(current.get("delete_contents_on_destroy"))
            )

        self.guard(ctx.diagnostics, run)
        return current if ctx.diagnostics.has_errors() else None

    def import_(self, ctx: ImportContext, id: str) -> dict | None:
        def run() -> dict | None:
            # projects/<p>/datasets/<d>, or the short forms <p>/<d> and <p>:<d>
            short = id.replace(":", "/").split("/")
            full = id if id.startswith("projects/") else f"projects/{short[0]}/datasets/{'/'.join(short[1:])}"
            project, dataset_id = split_id(full, ["projects", "{}", "datasets", "{}"])
            view = self.client.get_dataset(project, dataset_id)
            if view is None:
                raise NotFound(f"id: dataset {project}:{dataset_id} does not exist in the local cloud", "id")
            return self._state(view, {})

        return self.guard(ctx.diagnostics, run)


class Table(LocalCloudResource):
    @classmethod
    def get_name(cls) -> str:
        return "table"

    @classmethod
    def get_schema(cls) -> Schema:
        return Schema(
            attributes=[
                Attribute("id", String(), computed=True, description="projects/<p>/datasets/<d>/tables/<t>"),
                Attribute("project", String(), required=True, requires_replace=True),
                Attribute("dataset_id", String(), required=True, requires_replace=True),
                Attribute("table_id", String(), required=True, requires_replace=True),
                Attribute("description", String(), optional=True),
                Attribute("schema", String(), required=True, description="BigQuery JSON schema (a list of fields)"),
                Attribute("labels", Map(String()), optional=True),
                Attribute("time_partitioning", Map(String()), optional=True, requires_replace=True),
                Attribute("clustering", List(String()), optional=True),
                # Optional and computed: a new table is protected unless told otherwise; left out later,
                # it keeps what the table has. Changing it is an in-place update, never a replacement.
                Attribute(
                    "deletion_protection",
                    Bool(),
                    optional=True,
                    computed=True,
                    default=True,
                    description="while true, the local cloud refuses to delete the table (destroy or replace)",
                ),
                Attribute("columns", List(String()), computed=True, description="column names, as they really are"),
            ]
        )

    def upgrade(self, ctx: UpgradeContext, version: int, old: dict) -> dict:
        state = super().upgrade(ctx, version, old)
        # A state written before deletion protection existed: the table reads as protected, as the
        # local cloud reads its record, so neither a refresh nor -refresh=false shows a change.
        if state.get("deletion_protection") is None:
            state["deletion_protection"] = True
        return state

    def check(self, config: dict) -> None:
        when_known(config, "project", validation.project_id)
        when_known(config, "dataset_id", validation.dataset_id)
        when_known(config, "table_id", validation.table_id)
        when_known(config, "labels", validation.labels)
        fields = None
        if config.get("schema") is not None and is_known(config.get("schema")):
            fields = bq_schema.parse_schema(config["schema"])
        when_known(config, "time_partitioning", lambda v: bq_schema.validate_partitioning(v, fields))
        when_known(config, "clustering", lambda v: bq_schema.validate_clustering(v, fields))

    def _state(self, view: dict, reference: dict) -> dict:
        project, dataset_id, table_id = view["project"], view["dataset_id"], view["table_id"]
        schema_text = reference.get("schema")
        if not bq_schema.same_schema(schema_text, view["fields"]):
            schema_text = bq_schema.dumps(view["fields"], schema_text)
        partitioning = reference.get("time_partitioning")
        try:
            same = bq_schema.validate_partitioning(partitioning, None) == view["time_partitioning"]
        except InvalidValue:
            same = False
        if not same:
            partitioning = view["time_partitioning"]
        return {
            "id": f"projects/{project}/datasets/{dataset_id}/tables/{table_id}",
            "project": project,
            "dataset_id": dataset_id,
            "table_id": table_id,
            "description": as_configured(view["description"], reference.get("description")),
            "schema": schema_text,
            "labels": as_configured(view["labels"], reference.get("labels")),
            "time_partitioning": partitioning,
            "clustering": as_configured(view["clustering"], reference.get("clustering")),
            # Reality: the local cloud keeps the flag; tables stored before it existed read as protected.
            "deletion_protection": bool(view.get("deletion_protection", True)),
            "columns": [f["name"] for f in view["fields"]],
        }

    def plan(self, ctx: PlanContext, current: dict | None, planned: dict) -> dict:
        # The column list follows the schema; work it out now so the plan shows it.
        schema = planned.get("schema")
        try:
            known = schema is not None and is_known(schema)
            planned["columns"] = [f["name"] for f in bq_schema.parse_schema(schema)] if known else Unknown
        except InvalidValue:
            planned["columns"] = Unknown
        return planned

    @staticmethod
    def _spec(planned: dict) -> dict:
        keys = ("schema", "description", "labels", "time_partitioning", "clustering", "deletion_protection")
        return {k: planned.get(k) for k in keys}

    def create(self, ctx: CreateContext, planned: dict) -> dict | None:
        def run() -> dict:
            p = planned
            view = self.client.create_table(p["project"], p["dataset_id"], p["table_id"], self._spec(p))
            return self._state(view, planned)

        return self.guard(ctx.diagnostics, run)

    def read(self, ctx: ReadContext, current: dict) -> dict | None:
        c = current
        view = self.guard(ctx.diagnostics, lambda: self.client.get_table(c["project"], c["dataset_id"], c["table_id"]))
        return self._state(view, current) if view else None

    def update(self, ctx: UpdateContext, current: dict, planned: dict) -> dict | None:
        def run() -> dict:
            p = planned
            view = self.client.update_table(p["project"], p["dataset_id"], p["table_id"], self._spec(p))
            return self._state(view, planned)

        return self.guard(ctx.diagnostics, run, fallback=current)

    def delete(self, ctx: DeleteContext, current: dict) -> dict | None:
        # The local cloud decides (it keeps the flag as it really is): a protected table is refused
        # with FAILED_PRECONDITION, which becomes this diagnostic, and the table stays in the state.
        c = current
        try:
            self.client.delete_table(c["project"], c["dataset_id"], c["table_id"])
        except LocalCloudError as error:
            if isinstance(error, Conflict) and error.field == "deletion_protection":
                ctx.diagnostics.add_error(
                    f"Table {c['dataset_id']}.{c['table_id']} is protected from deletion",
                    error.message,
                    path=["deletion_protection"],
                )
            else:
                report(ctx.diagnostics, error, self.attribute_names())
        return current if ctx.diagnostics.has_errors() else None

    def import_(self, ctx: ImportContext, id: str) -> dict | None:
        def run() -> dict | None:
            project, dataset_id, table_id = split_id(id, ["projects", "{}", "datasets", "{}", "tables", "{}"])
            view = self.client.get_table(project, dataset_id, table_id)
            if view is None:
                raise NotFound(f"id: table {project}:{dataset_id}.{table_id} does not exist in the local cloud", "id")
            return self._state(view, {})

        return self.guard(ctx.diagnostics, run)
