"""localcloud_service_account and localcloud_iam_binding."""

from tf.iface import CreateContext, DeleteContext, ImportContext, ReadContext, UpdateContext
from tf.schema import Attribute, Schema
from tf.types import Set, String

from localcloud import iam, validation
from localcloud.errors import InvalidValue, NotFound
from localcloud.provider.base import LocalCloudResource, as_configured, is_known
from localcloud.provider.bigquery_resources import split_id, when_known


class ServiceAccount(LocalCloudResource):
    @classmethod
    def get_name(cls) -> str:
        return "service_account"

    @classmethod
    def get_schema(cls) -> Schema:
        return Schema(
            attributes=[
                Attribute("id", String(), computed=True, description="projects/<project>/serviceAccounts/<email>"),
                Attribute("project", String(), required=True, requires_replace=True),
                Attribute("account_id", String(), required=True, requires_replace=True),
                Attribute("display_name", String(), optional=True),
                Attribute("description", String(), optional=True),
                Attribute("email", String(), computed=True),
                Attribute("member", String(), computed=True, description="serviceAccount:<email>"),
                Attribute("unique_id", String(), computed=True),
            ]
        )

    def check(self, config: dict) -> None:
        when_known(config, "project", validation.project_id)
        when_known(config, "account_id", validation.account_id)

    def _state(self, view: dict, reference: dict) -> dict:
        return {
            "id": f"projects/{view['project']}/serviceAccounts/{view['email']}",
            "project": view["project"],
            "account_id": view["account_id"],
            "display_name": as_configured(view["display_name"], reference.get("display_name")),
            "description": as_configured(view["description"], reference.get("description")),
            "email": view["email"],
            "member": f"serviceAccount:{view['email']}",
            "unique_id": view["unique_id"],
        }

    def create(self, ctx: CreateContext, planned: dict) -> dict | None:
        p = planned

        def run() -> dict:
            view = self.client.create_service_account(
                p["project"], p["account_id"], display_name=p.get("display_name") or "",
                description=p.get("description") or "",
            )  # fmt: skip
            return self._state(view, planned)

        return self.guard(ctx.diagnostics, run)

    def read(self, ctx: ReadContext, current: dict) -> dict | None:
        c = current
        view = self.guard(ctx.diagnostics, lambda: self.client.get_service_account(c["project"], c["account_id"]))
        return self._state(view, current) if view else None

    def update(self, ctx: UpdateContext, current: dict, planned: dict) -> dict | None:
        p = planned

        def run() -> dict:
            view = self.client.update_service_account(
                p["project"], p["account_id"], display_name=p.get("display_name") or "",
                description=p.get("description") or "",
            )  # fmt: skip
            return self._state(view, planned)

        return self.guard(ctx.diagnostics, run, fallback=current)

    def delete(self, ctx: DeleteContext, current: dict) -> dict | None:
        self.guard(
            ctx.diagnostics, lambda: self.client.delete_service_account(current["project"], current["account_id"])
        )
        return current if ctx.diagnostics.has_errors() else None

    def import_(self, ctx: ImportContext, id: str) -> dict | None:
        def run() -> dict:
            project, email = split_id(id, ["projects", "{}", "serviceAccounts", "{}"])
            sa_project, account_id = validation.sa_email(email, "id")
            view = self.client.get_service_account(sa_project, account_id)
            if view is None or sa_project != project:
                raise NotFound(f"id: service account {email} does not exist in project {project}", "id")
            return self._state(view, {})

        return self.guard(ctx.diagnostics, run)


class IamBinding(LocalCloudResource):
    """All members of one role on a project, a service account or a bucket (optionally an object prefix)."""

    @classmethod
    def get_name(cls) -> str:
        return "iam_binding"

    @classmethod
    def get_schema(cls) -> Schema:
        return Schema(
            attributes=[
                Attribute("id", String(), computed=True, description="<target> <role>[ <prefix>]"),
                Attribute("project", String(), optional=True, requires_replace=True, description="grant on a project"),
                Attribute(
                    "service_account",
                    String(),
                    optional=True,
                    requires_replace=True,
                    description="grant on a SA (email)",
                ),
                Attribute("bucket", String(), optional=True, requires_replace=True, description="grant on a bucket"),
                Attribute("prefix", String(), optional=True, requires_replace=True, description="bucket object prefix"),
                Attribute("role", String(), required=True, requires_replace=True),
                Attribute("members", Set(String()), required=True),
            ]
        )

    def check(self, config: dict) -> None:
        targets = {k: config.get(k) for k in ("project", "service_account", "bucket")}
        if not all(is_known(v) for v in targets.values()):
            return
        kind, _ = iam.binding_target(**{k: v or "" for k, v in targets.items()})
        when_known(config, "role", lambda role: iam.validate_role(role, kind))
        when_known(config, "members", iam.validate_members)
        if config.get("prefix") and kind != "bucket":
            raise InvalidValue("prefix", config["prefix"], "an object prefix only applies to a bucket binding")

    @staticmethod
    def _target(state: dict) -> str:
        return iam.binding_target(
            state.get("project") or "", state.get("service_account") or "", state.get("bucket") or ""
        )[1]

    def _state(self, view: dict, reference: dict) -> dict:
        target = view["target"]
        parts = target.split("/")
        return {
            "id": view["id"],
            "project": parts[1] if len(parts) == 2 and parts[0] == "projects" else None,
            "service_account": parts[3] if len(parts) == 4 else None,
            "bucket": parts[1] if parts[0] == "buckets" else None,
            "prefix": as_configured(view["prefix"], reference.get("prefix")),
            "role": view["role"],
            "members": view["members"],
        }

    def create(self, ctx: CreateContext, planned: dict) -> dict | None:
        p = planned

        def run() -> dict:
            view = self.client.set_binding(self._target(p), p["role"], list(p["members"]), p.get("prefix") or "")
            return self._state(view, planned)

        return self.guard(ctx.diagnostics, run)

    def read(self, ctx: ReadContext, current: dict) -> dict | None:
        view = self.guard(ctx.diagnostics, lambda: self.client.get_binding(current["id"]))
        return self._state(view, current) if view else None

    def update(self, ctx: UpdateContext, current: dict, planned: dict) -> dict | None:
        return self.guard(ctx.diagnostics, lambda: self.create(ctx, planned), fallback=current) or current

    def delete(self, ctx: DeleteContext, current: dict) -> dict | None:
        self.guard(ctx.diagnostics, lambda: self.client.delete_binding(current["id"]))
        return current if ctx.diagnostics.has_errors() else None

    def import_(self, ctx: ImportContext, id: str) -> dict | None:
        def run() -> dict:
            view = self.client.get_binding(id)
            if view is None:
                raise NotFound(f"id: no binding {id!r} (expected '<target> <role>[ <prefix>]')", "id")
            return self._state(view, {})

        return self.guard(ctx.diagnostics, run)


class IamMember(LocalCloudResource):
    """One member granted one role on a target; unlike a binding, several of these add up."""

    @classmethod
    def get_name(cls) -> str:
        return "iam_member"

    @classmethod
    def get_schema(cls) -> Schema:
        return Schema(
            attributes=[
                Attribute("id", String(), computed=True, description="<target> <role> <member>[ <prefix>]"),
                Attribute("project", String(), optional=True, requires_replace=True, description="grant on a project"),
                Attribute("service_account", String(), optional=True, requires_replace=True, description="on a SA"),
                Attribute("bucket", String(), optional=True, requires_replace=True, description="grant on a bucket"),
                Attribute("prefix", String(), optional=True, requires_replace=True, description="bucket object prefix"),
                Attribute("role", String(), required=True, requires_replace=True),
                Attribute("member", String(), required=True, requires_replace=True),
            ]
        )

    def check(self, config: dict) -> None:
        targets = {k: config.get(k) for k in ("project", "service_account", "bucket")}
        if not all(is_known(v) for v in targets.values()):
            return
        kind, _ = iam.binding_target(**{k: v or "" for k, v in targets.items()})
        when_known(config, "role", lambda role: iam.validate_role(role, kind))
        when_known(config, "member", lambda member: iam.validate_members([member]))
        when_known(config, "prefix", lambda prefix: iam.validate_prefix(prefix, kind))

    def _state(self, view: dict, reference: dict) -> dict:
        parts = view["target"].split("/")
        return {
            "id": view["id"],
            "project": parts[1] if len(parts) == 2 and parts[0] == "projects" else None,
            "service_account": parts[3] if len(parts) == 4 else None,
            "bucket": parts[1] if parts[0] == "buckets" else None,
            "prefix": as_configured(view["prefix"], reference.get("prefix")),
            "role": view["role"],
            "member": view["member"],
        }

    def create(self, ctx: CreateContext, planned: dict) -> dict | None:
        p = planned

        def run() -> dict:
            target = IamBinding._target(p)
            return self._state(self.client.add_member(target, p["role"], p["member"], p.get("prefix") or ""), p)

        return self.guard(ctx.diagnostics, run)

    def read(self, ctx: ReadContext, current: dict) -> dict | None:
        view = self.guard(ctx.diagnostics, lambda: self.client.get_member(current["id"]))
        return self._state(view, current) if view else None

    def update(self, ctx: UpdateContext, current: dict, planned: dict) -> dict | None:
        return planned  # every attribute forces replacement; nothing to change in place

    def delete(self, ctx: DeleteContext, current: dict) -> dict | None:
        self.guard(ctx.diagnostics, lambda: self.client.remove_member(current["id"]))
        return current if ctx.diagnostics.has_errors() else None

    def import_(self, ctx: ImportContext, id: str) -> dict | None:
        def run() -> dict:
            view = self.client.get_member(id)
            if view is None:
                raise NotFound(f"id: no grant {id!r} (expected '<target> <role> <member>[ <prefix>]')", "id")
            return self._state(view, {})

        return self.guard(ctx.diagnostics, run)
