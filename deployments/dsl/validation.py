"""Validation of one environment's main.yaml against the DSL (see docs/dsl.md).

Every problem in the file is collected before anything is raised, each with its
position, what was found and what is allowed.
"""

from __future__ import annotations

import json
import json.decoder
import json.scanner
import re
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import TypeVar

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from deployments.dsl.composer_versions import COMPOSER_IMAGE_VERSIONS
from deployments.dsl.errors import DslError, DslProblem, did_you_mean, quoted_list
from deployments.dsl.spec import (
    Composer,
    Dataset,
    EnvironmentSpec,
    ServiceAccount,
    SharedEnvironment,
    SharedMember,
    Table,
    TimePartitioning,
)
from deployments.dsl.yaml_loader import YamlLimits, load_yaml, mapping_pairs, position, problem_at, scalar_value
from localcloud import bq_types

_Named = TypeVar("_Named", Composer, Dataset, Table, ServiceAccount)

SCHEMA_DIR = "bq_schemas"
MAX_SCHEMA_BYTES = 1_000_000

COMPOSER_NAME = re.compile(r"^[a-z](?:[a-z0-9-]{0,62}[a-z0-9])?$")
BQ_NAME = re.compile(r"^[A-Za-z0-9_]{1,1024}$")
COLUMN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,299}$")
ACCOUNT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")
AIRFLOW_OVERRIDE_KEY = re.compile(r"^[a-z0-9_.]+-[A-Za-z0-9_.]+$")
PYPI_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?(?:\[[A-Za-z0-9,._-]+\])?$")
_CLAUSE = r"(?:===|==|>=|<=|~=|!=|<|>)\s*[A-Za-z0-9.*+!_-]+"
PYPI_SPECIFIER = re.compile(rf"^(?:{_CLAUSE}(?:\s*,\s*{_CLAUSE})*)?$")
ENV_VARIABLE = re.compile(r"^[A-Z_][A-Z0-9_]*$")
LOCATION = re.compile(r"^(?:EU|US|[a-z]+-[a-z]+[0-9]+)$")
EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[a-z]{2,}$")
PROJECT_SLUG = re.compile(r"^sc-[1-9][0-9]*-[a-z](?:[a-z0-9-]*[a-z0-9])?$")
ENVIRONMENT_SUFFIXES = ("dev", "test", "prod")
PARTITION_TYPES = ("DAY", "HOUR", "MONTH", "YEAR")
MAX_LABELS = 64
MAX_CLUSTERING = 4

TOP_KEYS = ("infrastructure", "definitions")
CLOUD_KEYS = ("gcp",)
GCP_KEYS = ("composers", "datasets", "service_accounts", "processing_clusters")
COMPOSER_KEYS = (
    "name",
    "version",
    "airflow_config_overrides",
    "pypi_packages",
    "env_variables",
    "custom_labels",
    "shared",
)
SHARED_KEYS = ("scheduler", "members")
SHARED_MEMBER_KEYS = ("project", "project_id", "group", "service_account", "create_service_account")
DATASET_KEYS = ("name", "managed", "parameters", "tables")
DATASET_PARAMETER_KEYS = ("description", "location", "custom_labels")
TABLE_KEYS = ("name", "parameters")
TABLE_PARAMETER_KEYS = (
    "description",
    "schema",
    "gdpr_labels",
    "custom_labels",
    "time_partitioning",
    "clustering",
    "deletion_protection",
)
PARTITIONING_KEYS = ("type", "field")
SERVICE_ACCOUNT_KEYS = ("name", "display_name", "impersonated_by")


def describe(node: Node) -> str:
    """What a node is, in words a user recognises."""
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    value = scalar_value(node)
    if value is None:
        return "nothing (~)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {node.value}"
    return f"the text '{value}'"


class _Checker:
    def __init__(self, *, filename: str, infrastructure_dir: Path, display_dir: str) -> None:
        self.filename = filename
        self.infrastructure_dir = infrastructure_dir
        self.display_dir = display_dir
        self.problems: list[DslProblem] = []
        # Impersonators by service account, checked once every composer name is known.
        self.impersonator_nodes: dict[str, list[tuple[Node, str]]] = {}
        # Schedulers of shared composers, checked once every service account is known.
        self.scheduler_nodes: list[tuple[Node, str]] = []
        # Member projects of shared composers: where each was first listed, to refuse a second listing.
        self.member_projects: dict[str, Node] = {}

    # -- reporting -------------------------------------------------------

    def report(self, node: Node, message: str) -> None:
        self.problems.append(problem_at(self.filename, node, message))

    # -- shapes ----------------------------------------------------------

    def mapping(self, node: Node, what: str, allowed: tuple[str, ...]) -> dict[str, tuple[Node, Node]] | None:
        """The keys of a mapping with unknown keys reported; None if it is not a mapping."""
        if not isinstance(node, MappingNode):
            self.report(node, f"{what} must be a mapping with keys {quoted_list(allowed)}; found {describe(node)}")
            return None
        fields: dict[str, tuple[Node, Node]] = {}
        for key, value in mapping_pairs(node, self.filename, self.problems):
            name = str(scalar_value(key))
            if name not in allowed:
                hint = did_you_mean(name, allowed)
                self.report(key, f"unknown key '{name}' in {what};{hint} allowed: {quoted_list(allowed)}")
                continue
            fields[name] = (key, value)
        return fields

    def items(self, node: Node, what: str) -> list[Node]:
        """Entries of a list; `~` means none."""
        if isinstance(node, ScalarNode) and scalar_value(node) is None:
            return []
        if not isinstance(node, SequenceNode):
            self.report(
                node, f"{what} must be a list (each entry starting with '- ') or ~ for none; found {describe(node)}"
            )
            return []
        return list(node.value)

    def text(
        self, node: Node, what: str, *, pattern: re.Pattern[str] | None = None, rule: str = "", allow_numbers=False
    ) -> str | None:
        if not isinstance(node, ScalarNode):
            self.report(node, f"{what} must be text; found {describe(node)}")
            return None
        value = scalar_value(node)
        if isinstance(value, bool) or value is None or (isinstance(value, int | float) and not allow_numbers):
            self.report(node, f"{what} must be text; found {describe(node)}")
            return None
        value = node.value if isinstance(value, int | float) else str(value)
        if pattern is not None and not pattern.fullmatch(value):
            self.report(node, f"{what} '{value}' is not allowed: {rule}")
            return None
        return value

    def boolean(self, node: Node, what: str) -> bool | None:
        value = scalar_value(node) if isinstance(node, ScalarNode) else None
        if not isinstance(value, bool):
            self.report(node, f"{what} must be True or False; found {describe(node)}")
            return None
        return value

    def string_map(
        self,
        node: Node,
        what: str,
        *,
        key_pattern: re.Pattern[str],
        key_rule: str,
        value_check: Callable[[Node, str], str | None],
        max_entries: int | None = None,
    ) -> dict[str, str]:
        """A mapping of text to text; numbers and booleans are written as text (booleans lower-case)."""
        if isinstance(node, ScalarNode) and scalar_value(node) is None:
            return {}
        if not isinstance(node, MappingNode):
            self.report(node, f"{what} must be a mapping of names to values; found {describe(node)}")
            return {}
        result: dict[str, str] = {}
        pairs = mapping_pairs(node, self.filename, self.problems)
        if max_entries is not None and len(pairs) > max_entries:
            self.report(node, f"{what} has {len(pairs)} entries; at most {max_entries} are allowed")
        for key, value in pairs:
            name = str(scalar_value(key))
            if not key_pattern.fullmatch(name):
                self.report(key, f"key '{name}' in {what} is not allowed: {key_rule}")
                continue
            if isinstance(value, ScalarNode) and (bad := _forbidden_character(value.value)):
                self.report(
                    value,
                    f"value of '{name}' in {what} must be one line of text: it contains a line break or control "
                    f"character ({bad}); these would split the line it is written to",
                )
                continue
            checked = value_check(value, f"value of '{name}' in {what}")
            if checked is not None:
                result[name] = checked
        return dict(sorted(result.items()))

    def scalar_as_text(self, node: Node, what: str) -> str | None:
        if not isinstance(node, ScalarNode) or scalar_value(node) is None:
            self.report(node, f"{what} must be a single value (text, number or boolean); found {describe(node)}")
            return None
        value = scalar_value(node)
        if isinstance(value, bool):
            return "true" if value else "false"
        return node.value if isinstance(value, int | float) else str(value)

    def labels(self, node: Node, what: str) -> dict[str, str]:
        def label_value(value_node: Node, value_what: str) -> str | None:
            value = self.scalar_as_text(value_node, value_what)
            if value is not None and not LABEL_VALUE.fullmatch(value):
                self.report(
                    value_node,
                    f"{value_what} '{value}' is not allowed: label values are at most 63 lower-case letters, "
                    "digits, '_' or '-'",
                )
                return None
            return value

        return self.string_map(
            node,
            what,
            key_pattern=LABEL_KEY,
            key_rule="label keys start with a lower-case letter and have at most 63 lower-case letters, digits, "
            "'_' or '-'",
            value_check=label_value,
            max_entries=MAX_LABELS,
        )

    # -- the document ----------------------------------------------------

    def environment(self, root: Node | None) -> EnvironmentSpec:
        if root is None:
            self.problems.append(
                DslProblem(self.filename, 1, 1, "file is empty; expected 'infrastructure:' with a 'gcp:' section")
            )
            return EnvironmentSpec()
        top = self.mapping(root, "the file", TOP_KEYS)
        if top is None:
            return EnvironmentSpec()
        if "infrastructure" not in top:
            self.report(root, "missing key 'infrastructure' at the top of the file")
            return EnvironmentSpec()
        infrastructure = top["infrastructure"][1]
        if isinstance(infrastructure, ScalarNode) and scalar_value(infrastructure) is None:
            return EnvironmentSpec()
        clouds = self.mapping(infrastructure, "'infrastructure'", CLOUD_KEYS)
        if not clouds or "gcp" not in clouds:
            return EnvironmentSpec()
        gcp_node = clouds["gcp"][1]
        if isinstance(gcp_node, ScalarNode) and scalar_value(gcp_node) is None:
            return EnvironmentSpec()
        gcp = self.mapping(gcp_node, "'gcp'", GCP_KEYS)
        if gcp is None:
            return EnvironmentSpec()
        composers = self.unique(
            [self.composer(item) for item in self.items(gcp["composers"][1], "'composers'")]
            if "composers" in gcp
            else [],
            "composer",
        )
        datasets = self.unique(
            [self.dataset(item) for item in self.items(gcp["datasets"][1], "'datasets'")] if "datasets" in gcp else [],
            "dataset",
        )
        accounts = self.unique(
            [self.service_account(item) for item in self.items(gcp["service_accounts"][1], "'service_accounts'")]
            if "service_accounts" in gcp
            else [],
            "service account",
        )
        if "processing_clusters" in gcp:
            clusters = gcp["processing_clusters"][1]
            if self.items(clusters, "'processing_clusters'"):
                self.report(clusters, "processing clusters are not supported yet; only ~ (none) or [] is allowed")
        composer_names = [composer.name for _, composer in composers]
        for node, account in accounts:
            self.impersonators_exist(node, account, composer_names)
        account_names = [account.name for _, account in accounts]
        for node, scheduler in self.scheduler_nodes:
            if scheduler not in account_names:
                hint = did_you_mean(scheduler, account_names)
                known = quoted_list(account_names) if account_names else "none"
                self.report(
                    node,
                    f"scheduler '{scheduler}' names no service account of this file;{hint} service accounts: {known}",
                )
        return EnvironmentSpec(
            composers=tuple(composer for _, composer in composers),
            datasets=tuple(dataset for _, dataset in datasets),
            service_accounts=tuple(account for _, account in accounts),
        )

    def unique(self, entries: list[tuple[Node, _Named] | None], kind: str) -> list[tuple[Node, _Named]]:
        seen: dict[str, Node] = {}
        result = []
        for entry in entries:
            if entry is None:
                continue
            node, value = entry
            name = value.name
            if name in seen:
                line, _ = position(seen[name])
                self.report(node, f"{kind} '{name}' is defined twice (first on line {line}); names must be unique")
                continue
            seen[name] = node
            result.append(entry)
        return result

    def name(self, fields: dict[str, tuple[Node, Node]], node: Node, what: str, pattern, rule: str) -> str | None:
        if "name" not in fields:
            self.report(node, f"{what} needs a 'name'")
            return None
        return self.text(fields["name"][1], f"{what} name", pattern=pattern, rule=rule)

    def composer(self, node: Node) -> tuple[Node, Composer] | None:
        fields = self.mapping(node, "composer", COMPOSER_KEYS)
        if fields is None:
            return None
        name = self.name(
            fields,
            node,
            "composer",
            COMPOSER_NAME,
            "use 1 to 64 lower-case letters, digits and '-', starting with a letter and not ending with '-'",
        )
        version = None
        if "version" in fields:
            version = self.text(fields["version"][1], "composer version")
            if version is not None and version not in COMPOSER_IMAGE_VERSIONS:
                hint = did_you_mean(version, COMPOSER_IMAGE_VERSIONS)
                self.report(
                    fields["version"][1],
                    f"composer version '{version}' is not known;{hint} allowed: {quoted_list(COMPOSER_IMAGE_VERSIONS)}",
                )
                version = None
        overrides = self.string_map(
            fields["airflow_config_overrides"][1] if "airflow_config_overrides" in fields else _NONE,
            "airflow_config_overrides",
            key_pattern=AIRFLOW_OVERRIDE_KEY,
            key_rule="keys are 'section-key' as in Airflow's configuration, e.g. 'smtp-smtp_host'",
            value_check=self.scalar_as_text,
        )
        packages = self.string_map(
            fields["pypi_packages"][1] if "pypi_packages" in fields else _NONE,
            "pypi_packages",
            key_pattern=PYPI_NAME,
            key_rule="keys are PyPI package names such as 'google-api-core' or 'apache-airflow[google]'",
            value_check=self.pypi_specifier,
        )
        variables = self.string_map(
            fields["env_variables"][1] if "env_variables" in fields else _NONE,
            "env_variables",
            key_pattern=ENV_VARIABLE,
            key_rule="names are upper-case letters, digits and '_', not starting with a digit",
            value_check=self.scalar_as_text,
        )
        labels = self.labels(fields["custom_labels"][1], "custom_labels") if "custom_labels" in fields else {}
        shared = self.shared(fields["shared"][1]) if "shared" in fields else None
        if name is None:
            return None
        return node, Composer(
            name=name,
            version=version,
            airflow_config_overrides=overrides,
            pypi_packages=packages,
            env_variables=variables,
            custom_labels=labels,
            shared=shared,
        )

    def shared(self, node: Node) -> SharedEnvironment | None:
        """A composer shared with other projects: its scheduler account and its members."""
        fields = self.mapping(node, "shared", SHARED_KEYS)
        if fields is None:
            return None
        scheduler = None
        if "scheduler" not in fields:
            self.report(node, "shared needs a 'scheduler': a service account of this file that runs members' tasks")
        else:
            scheduler = self.text(
                fields["scheduler"][1],
                "scheduler",
                pattern=ACCOUNT_ID,
                rule="use the name of a service account of this file (6 to 30 lower-case letters, digits and '-')",
            )
            if scheduler is not None:
                self.scheduler_nodes.append((fields["scheduler"][1], scheduler))
        members_node = fields["members"][1] if "members" in fields else _NONE
        members = [self.shared_member(item) for item in self.items(members_node, "'members'")]
        if scheduler is None:
            return None
        return SharedEnvironment(scheduler=scheduler, members=tuple(m for m in members if m is not None))

    def shared_member(self, node: Node) -> SharedMember | None:
        fields = self.mapping(node, "member", SHARED_MEMBER_KEYS)
        if fields is None:
            return None
        missing = [key for key in ("project", "project_id", "group") if key not in fields]
        if missing:
            self.report(node, f"member needs {quoted_list(missing)}")
            return None
        project = self.text(
            fields["project"][1],
            "member project",
            pattern=PROJECT_SLUG,
            rule="use the member's Hangar project, sc-<service control id>-<name>, e.g. 'sc-123-example'",
        )
        project_id = self.text(fields["project_id"][1], "member project_id")
        if project is not None and project_id is not None:
            allowed = [f"{project}-{env}" for env in ENVIRONMENT_SUFFIXES]
            if project_id not in allowed:
                self.report(
                    fields["project_id"][1],
                    f"member project_id '{project_id}' is not a cloud project of {project}; allowed: "
                    f"{quoted_list(allowed)}",
                )
                project_id = None
        group = self.text(
            fields["group"][1],
            "member group",
            pattern=EMAIL,
            rule="use the team's group e-mail address, e.g. 'data-engine@groups.example.com'",
        )
        account = "bigdata-compute"
        if "service_account" in fields:
            account = self.text(
                fields["service_account"][1],
                "member service_account",
                pattern=ACCOUNT_ID,
                rule="use the account id (the part before '@'): 6 to 30 lower-case letters, digits and '-', "
                "starting with a letter and not ending with '-'",
            )
        create = False
        if "create_service_account" in fields:
            create = self.boolean(fields["create_service_account"][1], "'create_service_account'")
        if project is not None:
            if project in self.member_projects:
                line, _ = position(self.member_projects[project])
                self.report(
                    fields["project"][1],
                    f"project '{project}' is a member already (line {line}); a project joins a shared environment once",
                )
                return None
            self.member_projects[project] = fields["project"][1]
        if None in (project, project_id, group, account, create):
            return None
        return SharedMember(
            project=project,
            project_id=project_id,
            group=group,
            service_account=account,
            create_service_account=create,
        )

    def pypi_specifier(self, node: Node, what: str) -> str | None:
        value = scalar_value(node) if isinstance(node, ScalarNode) else None
        if not isinstance(value, str) or not PYPI_SPECIFIER.fullmatch(value.strip()):
            self.report(
                node,
                f'{what} must be a quoted version specifier such as "==2.0.0" or ">=1.31,<2" (or "" for '
                f"any version); found {describe(node)}",
            )
            return None
        return value.strip()

    def dataset(self, node: Node) -> tuple[Node, Dataset] | None:
        fields = self.mapping(node, "dataset", DATASET_KEYS)
        if fields is None:
            return None
        name = self.name(fields, node, "dataset", BQ_NAME, "use letters, digits and '_' only (at most 1024)")
        managed = True
        if "managed" in fields:
            managed = self.boolean(fields["managed"][1], "'managed'")
            managed = True if managed is None else managed
        description, location, labels = "", None, {}
        # An unmanaged dataset exists elsewhere: its parameters are documentation only and never applied.
        if managed and "parameters" in fields:
            parameters = self.mapping(fields["parameters"][1], "dataset parameters", DATASET_PARAMETER_KEYS) or {}
            if "description" in parameters:
                description = self.text(parameters["description"][1], "description") or ""
            if "location" in parameters:
                location = self.text(
                    parameters["location"][1],
                    "location",
                    pattern=LOCATION,
                    rule="use 'EU', 'US' or a region such as 'europe-west1'",
                )
            if "custom_labels" in parameters:
                labels = self.labels(parameters["custom_labels"][1], "custom_labels")
        tables_node = fields["tables"][1] if "tables" in fields else _NONE
        tables = self.unique([self.table(item) for item in self.items(tables_node, "'tables'")], "table")
        if name is None:
            return None
        return node, Dataset(
            name=name,
            managed=managed,
            description=description,
            location=location,
            custom_labels=labels,
            tables=tuple(table for _, table in tables),
        )

    def table(self, node: Node) -> tuple[Node, Table] | None:
        fields = self.mapping(node, "table", TABLE_KEYS)
        if fields is None:
            return None
        name = self.name(fields, node, "table", BQ_NAME, "use letters, digits and '_' only (at most 1024)")
        if "parameters" not in fields:
            self.report(node, "table needs 'parameters' with at least a 'schema'")
            return None
        parameters = self.mapping(fields["parameters"][1], "table parameters", TABLE_PARAMETER_KEYS)
        if parameters is None:
            return None
        schema = None
        if "schema" in parameters:
            schema = self.schema_reference(parameters["schema"][1])
        else:
            self.report(fields["parameters"][1], "table parameters need a 'schema': \"file:bq_schemas/<name>.json\"")
        description = (
            self.text(parameters["description"][1], "description") or "" if "description" in parameters else ""
        )
        gdpr = self.labels(parameters["gdpr_labels"][1], "gdpr_labels") if "gdpr_labels" in parameters else {}
        labels = self.labels(parameters["custom_labels"][1], "custom_labels") if "custom_labels" in parameters else {}
        partitioning = (
            self.partitioning(parameters["time_partitioning"][1]) if "time_partitioning" in parameters else None
        )
        clustering = self.clustering(parameters["clustering"][1]) if "clustering" in parameters else ()
        protection = True
        if "deletion_protection" in parameters:
            checked = self.boolean(parameters["deletion_protection"][1], "deletion_protection")
            protection = True if checked is None else checked
        if name is None or schema is None:
            return None
        return node, Table(
            name=name,
            schema_file=schema,
            description=description,
            gdpr_labels=gdpr,
            custom_labels=labels,
            time_partitioning=partitioning,
            clustering=clustering,
            deletion_protection=protection,
        )

    def partitioning(self, node: Node) -> TimePartitioning | None:
        if isinstance(node, ScalarNode) and scalar_value(node) is None:
            return None
        fields = self.mapping(node, "time_partitioning", PARTITIONING_KEYS)
        if fields is None:
            return None
        if "type" not in fields:
            self.report(node, f"time_partitioning needs a 'type': one of {quoted_list(PARTITION_TYPES)}")
            return None
        kind = self.text(fields["type"][1], "time_partitioning type")
        if kind is not None and kind not in PARTITION_TYPES:
            self.report(
                fields["type"][1], f"time_partitioning type '{kind}' is not one of {quoted_list(PARTITION_TYPES)}"
            )
            kind = None
        column = None
        if "field" in fields:
            column = self.text(fields["field"][1], "time_partitioning field", pattern=COLUMN_NAME, rule=_COLUMN_RULE)
        return TimePartitioning(type=kind, field=column) if kind else None

    def clustering(self, node: Node) -> tuple[str, ...]:
        columns = [
            self.text(item, "clustering column", pattern=COLUMN_NAME, rule=_COLUMN_RULE)
            for item in self.items(node, "'clustering'")
        ]
        if len(columns) > MAX_CLUSTERING:
            self.report(node, f"clustering has {len(columns)} columns; BigQuery allows at most {MAX_CLUSTERING}")
        return tuple(column for column in columns if column)

    def schema_reference(self, node: Node) -> str | None:
        """Check a `file:` reference and the JSON schema it names; return its path relative to infrastructure/."""
        reference = self.text(node, "schema")
        if reference is None:
            return None
        if not reference.startswith("file:"):
            self.report(
                node, f"schema must be a file reference such as \"file:{SCHEMA_DIR}/table.json\"; found '{reference}'"
            )
            return None
        relative = reference.removeprefix("file:").strip()
        path = PurePosixPath(relative)
        if (
            not relative
            or path.is_absolute()
            or "\\" in relative
            or ".." in path.parts
            or len(path.parts) < 2
            or path.parts[0] != SCHEMA_DIR
        ):
            self.report(
                node,
                f"schema file '{relative}' is outside the project's schema folder: schema files are given relative "
                f'to infrastructure/ and live under {SCHEMA_DIR}/, e.g. "file:{SCHEMA_DIR}/table.json"',
            )
            return None
        shown = f"{self.display_dir}{relative}"
        candidate = self.infrastructure_dir / relative
        schemas_root = (self.infrastructure_dir / SCHEMA_DIR).resolve()
        resolved = candidate.resolve()
        if candidate.is_symlink() or not resolved.is_relative_to(schemas_root):
            self.report(node, f"schema file '{shown}' is a link or leads outside {self.display_dir}{SCHEMA_DIR}/")
            return None
        if not resolved.is_file():
            self.report(node, f"schema file '{shown}' does not exist")
            return None
        self.schema_content(resolved, shown, node)
        return relative

    def schema_content(self, path: Path, shown: str, reference: Node) -> None:
        line, _ = position(reference)
        referenced = f"(referenced from {self.filename}:{line})"
        data = path.read_bytes()
        if len(data) > MAX_SCHEMA_BYTES:
            self.problems.append(
                DslProblem(shown, 1, 1, f"schema file is {len(data)} bytes; at most {MAX_SCHEMA_BYTES} {referenced}")
            )
            return
        try:
            text = data.decode("utf-8")
            fields, offsets = _json_with_offsets(text)
        except UnicodeDecodeError:
            self.problems.append(DslProblem(shown, 1, 1, f"schema file is not UTF-8 text {referenced}"))
            return
        except json.JSONDecodeError as exc:
            self.problems.append(DslProblem(shown, exc.lineno, exc.colno, f"invalid JSON: {exc.msg} {referenced}"))
            return
        except ValueError:
            # Python refuses to convert integers of more than sys.get_int_max_str_digits() digits.
            found = _LONG_NUMBER.search(text)
            line, column = _line_column(text, found.start()) if found else (1, 1)
            digits = len(found.group()) if found else "too many"
            self.problems.append(
                DslProblem(shown, line, column, f"a number of {digits} digits is too long {referenced}")
            )
            return
        except RecursionError:
            self.problems.append(DslProblem(shown, 1, 1, f"the JSON is nested too deeply {referenced}"))
            return
        for offset, problem in _schema_problems(fields, offsets):
            line, column = _line_column(text, offset)
            self.problems.append(DslProblem(shown, line, column, f"{problem} {referenced}"))

    def service_account(self, node: Node) -> tuple[Node, ServiceAccount] | None:
        fields = self.mapping(node, "service account", SERVICE_ACCOUNT_KEYS)
        if fields is None:
            return None
        name = self.name(
            fields,
            node,
            "service account",
            ACCOUNT_ID,
            "use 6 to 30 lower-case letters, digits and '-', starting with a letter and not ending with '-'",
        )
        display = self.text(fields["display_name"][1], "display_name") or "" if "display_name" in fields else ""
        impersonators = []
        if "impersonated_by" in fields:
            for item in self.items(fields["impersonated_by"][1], "'impersonated_by'"):
                who = self.text(item, "impersonator")
                if who is None:
                    continue
                if not (who.startswith("composer:") or EMAIL.fullmatch(who)):
                    self.report(
                        item,
                        f"impersonator '{who}' must be a service account e-mail address or 'composer:<name>' "
                        "for a composer of this file",
                    )
                    continue
                impersonators.append((item, who))
        if name is None:
            return None
        self.impersonator_nodes[name] = impersonators
        return node, ServiceAccount(
            name=name, display_name=display, impersonated_by=tuple(who for _, who in impersonators)
        )

    def impersonators_exist(self, node: Node, account: ServiceAccount, composers: list[str]) -> None:
        for item, who in self.impersonator_nodes.get(account.name, []):
            if who.startswith("composer:"):
                composer = who.removeprefix("composer:")
                if composer not in composers:
                    hint = did_you_mean(composer, composers)
                    known = quoted_list(composers) if composers else "none"
                    self.report(item, f"impersonator '{who}' names no composer of this file;{hint} composers: {known}")


# Characters a value written as one line (requirements.txt, airflow.cfg, environment) must not hold:
# every line separator str.splitlines() knows, and the other control characters except tab.
_LINE_SEPARATORS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def _forbidden_character(text: str) -> str | None:
    """repr() of the first line separator or control character in `text`, or None."""
    for char in text:
        if char in _LINE_SEPARATORS or (char != "\t" and (ord(char) < 0x20 or ord(char) == 0x7F)):
            return repr(char)
    return None


_LONG_NUMBER = re.compile(r"[0-9]{1000,}")


def _line_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


_NONE = ScalarNode("tag:yaml.org,2002:null", "~")
_COLUMN_RULE = "column names are letters, digits and '_', not starting with a digit"


def _json_with_offsets(text: str) -> tuple[object, dict[int, int]]:
    """Parse JSON and remember where each object starts: {id(object): character offset}.

    Python's scanner (not the C one) lets us see each object as it is parsed; schema files are small."""
    offsets: dict[int, int] = {}
    decoder = json.JSONDecoder()

    def parse_object(s_and_end, *args, **kwargs):
        result, end = json.decoder.JSONObject(s_and_end, *args, **kwargs)
        offsets[id(result)] = s_and_end[1] - 1  # the opening brace
        return result, end

    decoder.parse_object = parse_object
    decoder.scan_once = json.scanner.py_make_scanner(decoder)
    return decoder.decode(text), offsets


_BQ_TYPES = bq_types.TYPES + tuple(bq_types.TYPE_ALIASES)


def _schema_problems(
    fields: object, offsets: dict[int, int], parent: str = "", depth: int = 1
) -> list[tuple[int, str]]:
    """Every problem of a BigQuery JSON schema as (character offset, message), checked as BigQuery
    (and the local cloud) would at plan time: names, types, modes, nesting."""
    if not isinstance(fields, list) or not fields:
        where = f"column '{parent}' " if parent else "schema "
        shape = '{"name": ..., "type": ...}'
        return [(offsets.get(id(fields), 0), f"{where}must be a JSON list of fields, each {shape}")]
    if depth > bq_types.MAX_DEPTH:
        return [(offsets.get(id(fields[0]), 0), f"RECORD columns nest at most {bq_types.MAX_DEPTH} levels")]
    problems: list[tuple[int, str]] = []
    seen: set[str] = set()
    for index, entry in enumerate(fields):
        at = offsets.get(id(entry), 0)
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            where = f"field #{index + 1}" + (f" of '{parent}'" if parent else "")
            problems.append((at, f"{where} must be an object with text 'name' and 'type'"))
            continue
        name = f"{parent}.{entry['name']}" if parent else entry["name"]
        if not COLUMN_NAME.fullmatch(entry["name"]):
            problems.append((at, f"column '{name}': {_COLUMN_RULE}"))
        elif entry["name"].lower() in seen:
            problems.append((at, f"column '{name}' is given twice (column names are compared ignoring case)"))
        seen.add(entry["name"].lower())
        for key in sorted(set(entry) - bq_types.FIELD_KEYS):
            problems.append(
                (at, f"column '{name}' has an unknown key '{key}'; allowed: {quoted_list(sorted(bq_types.FIELD_KEYS))}")
            )
        raw_type = entry.get("type")
        if not isinstance(raw_type, str) or raw_type.upper() not in _BQ_TYPES:
            found = f"type '{raw_type}'" if isinstance(raw_type, str) else "no text 'type'"
            hint = did_you_mean(raw_type.upper(), _BQ_TYPES) if isinstance(raw_type, str) else ""
            problems.append(
                (
                    at,
                    f"column '{name}' has {found}, which BigQuery does not know;{hint} allowed: {quoted_list(_BQ_TYPES)}",
                )
            )
            column_type = None
        else:
            column_type = bq_types.TYPE_ALIASES.get(raw_type.upper(), raw_type.upper())
        mode = entry.get("mode")
        if mode is not None and (not isinstance(mode, str) or mode.upper() not in bq_types.MODES):
            problems.append((at, f"column '{name}' has mode '{mode}'; allowed: {quoted_list(bq_types.MODES)}"))
        nested = entry.get("fields")
        if column_type == "RECORD":
            if not isinstance(nested, list) or not nested:
                problems.append((at, f"column '{name}' is a RECORD and needs a non-empty 'fields' list"))
            else:
                problems.extend(_schema_problems(nested, offsets, name, depth + 1))
        elif nested and column_type is not None:
            problems.append((at, f"column '{name}' has nested 'fields' but only RECORD (STRUCT) columns do"))
    return problems


def parse_environment(
    *,
    text: str | bytes,
    filename: str,
    infrastructure_dir: Path,
    display_dir: str = "infrastructure/",
    limits: YamlLimits | None = None,
) -> EnvironmentSpec:
    """Load and validate one environment's main.yaml; raise DslError listing every problem.

    `filename` is how the file is named in problems (e.g. "infrastructure/dev/main.yaml");
    `infrastructure_dir` is where `file:` schema references are resolved, shown as `display_dir`.
    """
    root = load_yaml(text=text, filename=filename, limits=limits)
    checker = _Checker(filename=filename, infrastructure_dir=infrastructure_dir, display_dir=display_dir)
    checker._impersonator_nodes = {}
    spec = checker.environment(root)
    if checker.problems:
        raise DslError(checker.problems)
    return spec
