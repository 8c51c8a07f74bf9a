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


@dataclass(frozen=True)
class Dataset:
    name: str
    managed: bool = True
    description: str = ""
    location: str | None = None  # None: the module's default
    custom_labels: dict[str, str] = field(default_factory=dict)
    tables: tuple[Table, ...] = ()


@dataclass(frozen=True)
class Composer:
    name: str
    version: str | None = None  # None: the module's default image
    airflow_config_overrides: dict[str, str] = field(default_factory=dict)
    pypi_packages: dict[str, str] = field(default_factory=dict)
    env_variables: dict[str, str] = field(default_factory=dict)
    custom_labels: dict[str, str] = field(default_factory=dict)


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
