"""DSL composer `version` → Composer image version (see docs/dsl.md).

Omitting `version` leaves the image to the composer_environment module's
default, which is the organisation's current default; the artifact bundles the
module, so a built artifact keeps the image it was built with.
"""

COMPOSER_IMAGE_VERSIONS: dict[str, str] = {
    "v2": "composer-2.9.7-airflow-2.9.3",
    "v3": "composer-3-airflow-2.10.5",
}
