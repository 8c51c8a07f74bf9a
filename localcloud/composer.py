"""Composer (Airflow) environments: a folder with the environment's configuration
(``airflow.cfg`` overrides, ``requirements.txt``, ``variables.env``) and a DAG bucket.

Read parses those files back, so an edit made by hand shows up as drift.
"""

import configparser
import hashlib
import re
import shutil
from pathlib import Path

from localcloud import storage, validation
from localcloud.errors import AlreadyExists, InvalidValue, NotFound
from localcloud.store import Store

ENVIRONMENT = "composer_environment"
IMAGE_VERSION = re.compile(r"^composer-([0-9]+)(\.[0-9]+\.[0-9]+)?(-preview\.[0-9]+)?-airflow-[0-9]+(\.[0-9]+){0,2}$")
ENV_NAME = re.compile(r"^[a-z][a-z0-9-]{0,62}[a-z0-9]$")
OVERRIDE_KEY = re.compile(r"^([a-z0-9_.]+)-([A-Za-z0-9_]+)$")
# Cloud Composer refuses to let users override these; so do we.
BLOCKED_OVERRIDES = frozenset(
    {
        "core-dags_folder",
        "core-executor",
        "core-plugins_folder",
        "core-sql_alchemy_conn",
        "database-sql_alchemy_conn",
        "celery-broker_url",
        "celery-result_backend",
        "webserver-base_url",
    }
)
PACKAGE_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")
VERSION_SPEC = re.compile(
    r"^(\[[A-Za-z0-9_,.-]+\])?\s*((===|==|!=|~=|>=|<=|>|<)\s*[A-Za-z0-9.*+!_-]+"
    r"(\s*,\s*(===|==|!=|~=|>=|<=|>|<)\s*[A-Za-z0-9.*+!_-]+)*)?$"
)
ENV_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
RESERVED_ENV_VARS = frozenset(
    {"AIRFLOW_HOME", "C_FORCE_ROOT", "CONTAINER_NAME", "DAGS_FOLDER", "GCP_PROJECT", "GCS_BUCKET", "GKE_CLUSTER_NAME"}
)
DAG_FOLDER = "dags"


def env_dir(store: Store, project: str, name: str) -> Path:
    validate_name(name)
    return store.project_dir(project) / "composer" / name


def validate_name(name: str) -> str:
    if not isinstance(name, str) or not ENV_NAME.fullmatch(name):
        raise InvalidValue(
            "name", name, "an environment name is 2-64 lowercase letters, digits and hyphens, starting with a letter"
        )
    return name


def validate_image_version(value: str) -> str:
    if not isinstance(value, str) or not IMAGE_VERSION.fullmatch(value):
        raise InvalidValue(
            "image_version", value, "an image version looks like composer-2.9.7-airflow-2.9.3 or composer-2-airflow-2"
        )
    return value


def validate_overrides(overrides: dict | None) -> dict[str, str]:
    result = dict(overrides or {})
    for key, value in result.items():
        if not OVERRIDE_KEY.fullmatch(key):
            raise InvalidValue(
                f"airflow_config_overrides.{key}",
                key,
                "keys are <section>-<key>, e.g. smtp-smtp_host or core-dag_concurrency",
            )
        if key in BLOCKED_OVERRIDES:
            raise InvalidValue(
                f"airflow_config_overrides.{key}",
                key,
                f"these are managed by the environment: {', '.join(sorted(BLOCKED_OVERRIDES))}",
            )
        if "\n" in str(value):
            raise InvalidValue(f"airflow_config_overrides.{key}", value, "a single-line value")
    return result


def validate_packages(packages: dict | None) -> dict[str, str]:
    result = dict(packages or {})
    for name, spec in result.items():
        if not PACKAGE_NAME.fullmatch(name):
            raise InvalidValue(f"pypi_packages.{name}", name, "a PyPI project name (letters, digits, '.', '_', '-')")
        if not VERSION_SPEC.fullmatch(spec or ""):
            raise InvalidValue(
                f"pypi_packages.{name}",
                spec,
                'a version specifier such as "==2.0.0", ">=1.2,<2", "[gcp]>=1.0" or "" for any version',
            )
    return result


def validate_env_variables(variables: dict | None) -> dict[str, str]:
    result = dict(variables or {})
    for key, value in result.items():
        if not ENV_VAR.fullmatch(key) or key in RESERVED_ENV_VARS or key.startswith("AIRFLOW__"):
            raise InvalidValue(
                f"env_variables.{key}",
                key,
                "a name of letters, digits and '_' not starting with a digit; AIRFLOW__* and "
                f"{', '.join(sorted(RESERVED_ENV_VARS))} are reserved",
            )
        if "\n" in str(value):
            raise InvalidValue(f"env_variables.{key}", value, "a single-line value")
    return result


def default_service_account(project: str) -> str:
    """What an environment runs as when no service account is given (Compute Engine's default)."""
    return f"{project}-compute@developer.gserviceaccount.com"


def dag_bucket_name(project: str, location: str, name: str) -> str:
    digest = hashlib.sha256(f"{project}/{name}".encode()).hexdigest()[:8]
    return f"{location.lower()}-{name[:30].rstrip('-')}-{digest}-bucket"


# -- files ----------------------------------------------------------------------
def _write_files(path: Path, overrides: dict, packages: dict, variables: dict) -> None:
    path.mkdir(parents=True, exist_ok=True)
    sections: dict[str, dict[str, str]] = {}
    for key, value in sorted(overrides.items()):
        section, option = OVERRIDE_KEY.fullmatch(key).groups()  # type: ignore[union-attr]
        sections.setdefault(section, {})[option] = str(value)
    cfg = ["# Airflow configuration overrides of this environment (managed by the local cloud)."]
    for section, options in sections.items():
        cfg.append(f"\n[{section}]")
        cfg.extend(f"{option} = {value}" for option, value in options.items())
    _replace(path / "airflow.cfg", "\n".join(cfg) + "\n")
    _replace(path / "requirements.txt", "".join(f"{n}{s}\n" for n, s in sorted(packages.items())))
    _replace(path / "variables.env", "".join(f"{k}={v}\n" for k, v in sorted(variables.items())))


def _replace(path: Path, text: str) -> None:
    # Write beside and rename, so a reader never sees half a file.
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def _read_files(path: Path) -> tuple[dict, dict, dict]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(path / "airflow.cfg")
    overrides = {f"{s}-{k}": v for s in parser.sections() for k, v in parser.items(s)}
    packages = {}
    for line in _lines(path / "requirements.txt"):
        match = re.fullmatch(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(.*)$", line)
        if match:
            packages[match.group(1)] = match.group(2).strip()
    variables = dict(line.split("=", 1) for line in _lines(path / "variables.env") if "=" in line)
    return overrides, packages, variables


def _lines(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [s for s in (line.strip() for line in path.read_text().splitlines()) if s and not s.startswith("#")]


# -- lifecycle ------------------------------------------------------------------
def get_environment(store: Store, project: str, name: str) -> dict | None:
    record = store.get(ENVIRONMENT, project, name)
    path = env_dir(store, project, name)
    if record is None or not path.is_dir():
        return None
    overrides, packages, variables = _read_files(path)
    bucket = record.attrs["dag_bucket"]
    return {
        "project": project,
        "name": name,
        **record.attrs,
        "service_account": record.attrs.get("service_account") or default_service_account(project),
        "airflow_config_overrides": overrides,
        "pypi_packages": packages,
        "env_variables": variables,
        "dag_folder": f"{DAG_FOLDER}/",
        "dag_gcs_prefix": f"gs://{bucket}/{DAG_FOLDER}",
        "dag_path": str(storage.bucket_dir(store, project, bucket) / DAG_FOLDER),
        "airflow_uri": f"http://airflow.localcloud/{project}/{name}",
    }


def create_environment(store: Store, project: str, name: str, spec: dict) -> dict:
    """spec: location, image_version, service_account, labels, airflow_config_overrides, pypi_packages,
    env_variables."""
    validation.project_id(project)
    path = env_dir(store, project, name)
    location = validation.location(spec.get("location") or "europe-west1")
    attrs = _validated(spec)
    bucket = dag_bucket_name(project, location, name)
    if store.get(ENVIRONMENT, project, name) and path.is_dir():
        raise AlreadyExists(f"name: Composer environment {project}/{name} already exists", "name")
    if storage.get_bucket(store, bucket) is None:
        storage.create_bucket(
            store, project, bucket, location, {"goog-composer-environment": name[:63]}, owner=f"composer/{name}"
        )
    for folder in (DAG_FOLDER, "plugins", "data"):
        (storage.bucket_dir(store, project, bucket) / folder).mkdir(exist_ok=True)
    _write_files(path, spec_overrides(spec), spec_packages(spec), spec_variables(spec))
    with store.session(write=True) as conn:
        store.put(conn, ENVIRONMENT, project, name, attrs | {"location": location, "dag_bucket": bucket})
    return get_environment(store, project, name) or {}


def spec_overrides(spec: dict) -> dict:
    return validate_overrides(spec.get("airflow_config_overrides"))


def spec_packages(spec: dict) -> dict:
    return validate_packages(spec.get("pypi_packages"))


def spec_variables(spec: dict) -> dict:
    return validate_env_variables(spec.get("env_variables"))


def _validated(spec: dict) -> dict:
    service_account = spec.get("service_account") or ""
    if service_account:
        validation.sa_email(service_account)
    return {
        "image_version": validate_image_version(spec.get("image_version") or ""),
        "service_account": service_account,
        "labels": validation.labels(spec.get("labels")),
    }


def update_environment(store: Store, project: str, name: str, spec: dict) -> dict:
    path = env_dir(store, project, name)
    with store.session(write=True) as conn:
        record = store.get(ENVIRONMENT, project, name, conn)
        if record is None or not path.is_dir():
            raise NotFound(f"name: Composer environment {project}/{name} does not exist", "name")
        attrs = record.attrs | _validated(spec)
        _write_files(path, spec_overrides(spec), spec_packages(spec), spec_variables(spec))
        store.put(conn, ENVIRONMENT, project, name, attrs)
    return get_environment(store, project, name) or {}


def delete_environment(store: Store, project: str, name: str) -> None:
    record = store.get(ENVIRONMENT, project, name)
    if record is not None:
        storage.delete_bucket(store, record.attrs["dag_bucket"], force=True)
    with store.session(write=True) as conn:
        store.remove(conn, ENVIRONMENT, project, name)
    path = env_dir(store, project, name)
    if path.is_dir():
        shutil.rmtree(path)
