"""localcloud_bucket."""

from tf.iface import CreateContext, DeleteContext, ImportContext, ReadContext, UpdateContext
from tf.schema import Attribute, Schema
from tf.types import Bool, Map, String

from localcloud import validation
from localcloud.errors import NotFound
from localcloud.provider.base import LocalCloudResource, as_configured
from localcloud.provider.bigquery_resources import when_known


class Bucket(LocalCloudResource):
    @classmethod
    def get_name(cls) -> str:
        return "bucket"

    @classmethod
    def get_schema(cls) -> Schema:
        return Schema(
            attributes=[
                Attribute("id", String(), computed=True),
                Attribute("project", String(), required=True, requires_replace=True),
                Attribute("name", String(), required=True, requires_replace=True),
                Attribute("location", String(), optional=True, computed=True, default="EU", requires_replace=True),
                Attribute("storage_class", String(), optional=True, computed=True, default="STANDARD"),
                Attribute("labels", Map(String()), optional=True),
                Attribute("versioning", Bool(), optional=True),
                Attribute(
                    "force_destroy",
                    Bool(),
                    optional=True,
                    computed=True,
                    default=False,
                    description="delete if not empty",
                ),
                Attribute("url", String(), computed=True, description="gs://<name>"),
                Attribute("path", String(), computed=True, description="the bucket's directory on this machine"),
            ]
        )

    def check(self, config: dict) -> None:
        when_known(config, "project", validation.project_id)
        when_known(config, "name", validation.bucket_name)
        when_known(config, "location", validation.location)
        when_known(config, "labels", validation.labels)

    def _state(self, view: dict, reference: dict) -> dict:
        name = view["name"]
        return {
            "id": name,
            "project": view["project"],
            "name": name,
            "location": view["location"],
            "storage_class": view["storage_class"],
            "labels": as_configured(view["labels"], reference.get("labels")),
            "versioning": as_configured(view["versioning"], reference.get("versioning")),
            "force_destroy": bool(reference.get("force_destroy")),
            "url": f"gs://{name}",
            "path": view["path"],
        }

    def create(self, ctx: CreateContext, planned: dict) -> dict | None:
        p = planned

        def run() -> dict:
            view = self.client.create_bucket(
                p["project"],
                p["name"],
                location=p.get("location") or "EU",
                labels=p.get("labels"),
                versioning=bool(p.get("versioning")),
                storage_class=p.get("storage_class") or "STANDARD",
            )
            return self._state(view, planned)

        return self.guard(ctx.diagnostics, run)

    def read(self, ctx: ReadContext, current: dict) -> dict | None:
        view = self.guard(ctx.diagnostics, lambda: self.client.get_bucket(current["name"]))
        return self._state(view, current) if view else None

    def update(self, ctx: UpdateContext, current: dict, planned: dict) -> dict | None:
        p = planned

        def run() -> dict:
            view = self.client.update_bucket(
                p["name"],
                labels=p.get("labels"),
                versioning=bool(p.get("versioning")),
                storage_class=p.get("storage_class") or "STANDARD",
            )
            return self._state(view, planned)

        return self.guard(ctx.diagnostics, run, fallback=current)

    def delete(self, ctx: DeleteContext, current: dict) -> dict | None:
        self.guard(
            ctx.diagnostics,
            lambda: self.client.delete_bucket(current["name"], bool(current.get("force_destroy"))),
        )
        return current if ctx.diagnostics.has_errors() else None

    def import_(self, ctx: ImportContext, id: str) -> dict | None:
        def run() -> dict:
            name = id.split("/")[-1]
            view = self.client.get_bucket(name)
            if view is None:
                raise NotFound(f"id: bucket {name} does not exist in the local cloud", "id")
            return self._state(view, {})

        return self.guard(ctx.diagnostics, run)
