"""The validated content of one environment's main.yaml, ready to compile."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TimePartitioning:
    type: str
    field: str | None = None


@dataclass(frozen=True)
class Table:
    name: str
    schema_file: str  # relative to infrastructure/, always under bq_schemas/
    description: str = ""
    gdpr_labels: dict[str, str] = field(default_factory=dict)
    custom_labels: dict[str, str] = field(default_factory=dict)
    time_partitioning: TimePartitioning | None = None
    clustering: tuple[str, ...] = ()
    # As in google_bigquery_table: while true, a plan that destroys or replaces the table is refused.
    deletion_protection: bool = True


@dataclass(frozen=True)
class Dataset:
    name: str
    managed: bool = True
    description: str = ""
    location: str | None = None  # None: the module's default
    custom_labels: dict[str, str] = field(default_factory=dict)
    tables: tuple[Table, ...] = ()


@dataclass(frozen=True)
class SharedMember:
    """A project onboarded to a shared composer: grants in this environment (docs/shared-composer.md)."""

    project: str  # the member's Hangar project, sc-<id>-<name>; its DAG folder is dags/<project>/
    project_id: str  # the member's cloud project in this environment, <project>-<env>
    group: str  # the member team's group e-mail: DAG folder access and the Composer User role
    service_account: str = "bigdata-compute"  # account id of the member's compute account in project_id
    create_service_account: bool = False  # True: this definition creates (and owns) that account

    @property
    def service_account_email(self) -> str:
        return f"{self.service_account}@{self.project_id}.iam.gserviceaccount.com"

    @property
    def dag_prefix(self) -> str:
        return f"dags/{self.project}/"


@dataclass(frozen=True)
class SharedEnvironment:
    scheduler: str  # a service account of the same file; members' compute accounts let it act as them
    members: tuple[SharedMember, ...] = ()


@dataclass(frozen=True)
class Composer:
    name: str
    version: str | None = None  # None: the module's default image
    airflow_config_overrides: dict[str, str] = field(default_factory=dict)
    pypi_packages: dict[str, str] = field(default_factory=dict)
    env_variables: dict[str, str] = field(default_factory=dict)
    custom_labels: dict[str, str] = field(default_factory=dict)
    shared: SharedEnvironment | None = None  # set: a shared environment that other projects join


@dataclass(frozen=True)
class ServiceAccount:
    name: str
    display_name: str = ""
    # Each is an e-mail address or "composer:<name>" for a composer of this file.
    impersonated_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class EnvironmentSpec:
    composers: tuple[Composer, ...] = ()
    datasets: tuple[Dataset, ...] = ()
    service_accounts: tuple[ServiceAccount, ...] = ()

    def schema_files(self) -> list[str]:
        return sorted({table.schema_file for dataset in self.datasets for table in dataset.tables})
