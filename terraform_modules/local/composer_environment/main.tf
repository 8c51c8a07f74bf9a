locals {
  labels = merge(var.labels, { team = var.team, managed_by = "hangar" })
  # Account ids are at most 30 characters: keep the name's start and say what it is.
  account_id = "${trimsuffix(substr(var.name, 0, 26), "-")}-env"
  # Packages the organisation installs in every environment (a user's pin wins).
  pypi_packages = merge({}, var.pypi_packages)
}

resource "localcloud_service_account" "environment" {
  project      = var.project_id
  account_id   = length(local.account_id) >= 6 ? local.account_id : "${local.account_id}-sa"
  display_name = "Composer environment ${var.name}"
}

resource "localcloud_iam_member" "worker" {
  project = var.project_id
  role    = "roles/composer.worker"
  member  = localcloud_service_account.environment.member
}

resource "localcloud_composer_environment" "this" {
  project                  = var.project_id
  name                     = var.name
  location                 = var.region
  image_version            = var.image_version
  service_account          = localcloud_service_account.environment.email
  labels                   = local.labels
  airflow_config_overrides = var.airflow_config_overrides
  pypi_packages            = local.pypi_packages
  env_variables            = var.env_variables

  depends_on = [localcloud_iam_member.worker]
}
