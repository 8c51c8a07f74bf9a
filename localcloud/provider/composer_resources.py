"""localcloud_composer_environment."""

from tf.iface import CreateContext, DeleteContext, ImportContext, ReadContext, UpdateContext
from tf.schema import Attribute, Schema
from tf.types import Map, String

from localcloud import composer, validation
from localcloud.errors import NotFound
from localcloud.provider.base import LocalCloudResource, as_configured
from localcloud.provider.bigquery_resources import split_id, when_known

SPEC_KEYS = (
    "location",
    "image_version",
    "service_account",
    "labels",
    "airflow_config_overrides",
    "pypi_packages",
    "env_variables",
)


class ComposerEnvironment(LocalCloudResource):
    @classmethod
    def get_name(cls) -> str:
        return "composer_environment"

    @classmethod
    def get_schema(cls) -> Schema:
        return Schema(
            attributes=[
                Attribute("id", String(), computed=True, description="projects/<p>/locations/<l>/environments/<name>"),
                Attribute("project", String(), required=True, requires_replace=True),
                Attribute("name", String(), required=True, requires_replace=True),
                Attribute(
                    "location", String(), optional=True, computed=True, default="europe-west1", requires_replace=True
                ),
                Attribute("image_version", String(), required=True),
                Attribute("service_account", String(), optional=True, computed=True),
                Attribute("labels", Map(String()), optional=True),
                Attribute(
                    "airflow_config_overrides", Map(String()), optional=True, description="<section>-<key> = value"
                ),
                Attribute("pypi_packages", Map(String()), optional=True, description="name = version specifier"),
                Attribute("env_variables", Map(String()), optional=True),
                Attribute("dag_bucket", String(), computed=True),
                Attribute("dag_folder", String(), computed=True, description="object prefix of DAGs in dag_bucket"),
                Attribute("dag_gcs_prefix", String(), computed=True),
                Attribute("dag_path", String(), computed=True, description="the DAG folder on this machine"),
                Attribute("airflow_uri", String(), computed=True),
            ]
        )

    def check(self, config: dict) -> None:
        when_known(config, "project", validation.project_id)
        when_known(config, "name", composer.validate_name)
        when_known(config, "location", validation.location)
        when_known(config, "image_version", composer.validate_image_version)
        when_known(config, "service_account", validation.sa_email)
        when_known(config, "labels", validation.labels)
        when_known(config, "airflow_config_overrides", composer.validate_overrides)
        when_known(config, "pypi_packages", composer.validate_packages)
        when_known(config, "env_variables", composer.validate_env_variables)

    def _state(self, view: dict, reference: dict) -> dict:
        state = {
            "id": f"projects/{view['project']}/locations/{view['location']}/environments/{view['name']}",
            "project": view["project"],
            "name": view["name"],
            "location": view["location"],
            "image_version": view["image_version"],
            "service_account": view["service_account"],
        }
        for key in ("labels", "airflow_config_overrides", "pypi_packages", "env_variables"):
            state[key] = as_configured(view[key], reference.get(key))
        for key in ("dag_bucket", "dag_folder", "dag_gcs_prefix", "dag_path", "airflow_uri"):
            state[key] = view[key]
        return state

    def create(self, ctx: CreateContext, planned: dict) -> dict | None:
        def run() -> dict:
            spec = {k: planned.get(k) for k in SPEC_KEYS}
            view = self.client.create_environment(planned["project"], planned["name"], spec)
            return self._state(view, planned)

        return self.guard(ctx.diagnostics, run)

    def read(self, ctx: ReadContext, current: dict) -> dict | None:
        view = self.guard(ctx.diagnostics, lambda: self.client.get_environment(current["project"], current["name"]))
        return self._state(view, current) if view else None

    def update(self, ctx: UpdateContext, current: dict, planned: dict) -> dict | None:
        def run() -> dict:
            spec = {k: planned.get(k) for k in SPEC_KEYS}
            view = self.client.update_environment(planned["project"], planned["name"], spec)
            return self._state(view, planned)

        return self.guard(ctx.diagnostics, run, fallback=current)

    def delete(self, ctx: DeleteContext, current: dict) -> dict | None:
        self.guard(ctx.diagnostics, lambda: self.client.delete_environment(current["project"], current["name"]))
        return current if ctx.diagnostics.has_errors() else None

    def import_(self, ctx: ImportContext, id: str) -> dict | None:
        def run() -> dict:
            project, _, name = split_id(id, ["projects", "{}", "locations", "{}", "environments", "{}"])
            view = self.client.get_environment(project, name)
            if view is None:
                raise NotFound(f"id: Composer environment {project}/{name} does not exist in the local cloud", "id")
            return self._state(view, {})

        return self.guard(ctx.diagnostics, run)
