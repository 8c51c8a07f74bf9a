"""Naming rules of the local cloud, modelled on GCP's, with messages that name the field,
what was found and what is allowed."""

import re
from collections.abc import Mapping

from localcloud.errors import InvalidValue

PROJECT_ID = re.compile(r"^[a-z][a-z0-9-]{4,61}[a-z0-9]$")
DATASET_ID = re.compile(r"^[A-Za-z0-9_]{1,1024}$")
TABLE_ID = re.compile(r"^[A-Za-z0-9_]{1,1024}$")
ACCOUNT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$")
LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")
LOCATION = re.compile(r"^(EU|US|[a-z]+-[a-z]+[0-9]+)$")
MAX_LABELS = 64


def project_id(value: str, field: str = "project") -> str:
    if not isinstance(value, str) or not PROJECT_ID.fullmatch(value):
        raise InvalidValue(
            field,
            value,
            "a project id is 6-63 characters: lowercase letters, digits and hyphens, "
            "starting with a letter and not ending with a hyphen (e.g. sc-20050-kpis-dev)",
        )
    return value


def dataset_id(value: str, field: str = "dataset_id") -> str:
    if not isinstance(value, str) or not DATASET_ID.fullmatch(value):
        raise InvalidValue(field, value, "a dataset id is 1-1024 letters, digits or underscores")
    return value


def table_id(value: str, field: str = "table_id") -> str:
    if not isinstance(value, str) or not TABLE_ID.fullmatch(value):
        raise InvalidValue(field, value, "a table id is 1-1024 letters, digits or underscores")
    return value


def account_id(value: str, field: str = "account_id") -> str:
    if not isinstance(value, str) or not ACCOUNT_ID.fullmatch(value):
        raise InvalidValue(
            field,
            value,
            "an account id is 6-30 characters: lowercase letters, digits and hyphens, "
            "starting with a letter and not ending with a hyphen",
        )
    return value


def bucket_name(value: str, field: str = "name") -> str:
    if not isinstance(value, str) or not BUCKET_NAME.fullmatch(value) or ".." in value:
        raise InvalidValue(
            field,
            value,
            "a bucket name is 3-63 characters: lowercase letters, digits, '-', '_' and '.', "
            "starting and ending with a letter or digit",
        )
    return value


def location(value: str, field: str = "location") -> str:
    if not isinstance(value, str) or not LOCATION.fullmatch(value):
        raise InvalidValue(field, value, "allowed: the multi-regions EU or US, or a region such as europe-west1")
    return value


def labels(value: Mapping[str, str] | None, field: str = "labels") -> dict[str, str]:
    result = dict(value or {})
    if len(result) > MAX_LABELS:
        raise InvalidValue(field, f"{len(result)} labels", f"at most {MAX_LABELS} labels are allowed")
    for key, val in result.items():
        if not LABEL_KEY.fullmatch(key):
            raise InvalidValue(
                f"{field}.{key}",
                key,
                "a label key is 1-63 lowercase letters, digits, '_' or '-', starting with a letter",
            )
        if not isinstance(val, str) or not LABEL_VALUE.fullmatch(val):
            raise InvalidValue(f"{field}.{key}", val, "a label value is 0-63 lowercase letters, digits, '_' or '-'")
    return result


def sa_email(value: str, field: str = "service_account") -> tuple[str, str]:
    """Split `<account>@<project>.iam.gserviceaccount.com` into (project, account)."""
    match = re.fullmatch(
        r"^([a-z][a-z0-9-]{4,28}[a-z0-9])@([a-z][a-z0-9-]{4,61}[a-z0-9])\.iam\.gserviceaccount\.com$", value
    )
    if not match:
        raise InvalidValue(
            field, value, "a service account email looks like <account>@<project>.iam.gserviceaccount.com"
        )
    return match.group(2), match.group(1)
