locals {
  labels = merge(var.labels, { team = var.team, managed_by = "hangar" })
  # Account ids are at most 30 characters: keep the name's start and say what it is.
  account_id = "${trimsuffix(substr(var.name, 0, 26), "-")}-env"
  # Packages the organisation installs in every environment (a user's pin wins).
  pypi_packages = merge({}, var.pypi_packages)
  # gs://<bucket>/dags
  dag_gcs_prefix = google_composer_environment.this.config[0].dag_gcs_prefix
  dag_location   = regex("^gs://([^/]+)/(.*)$", local.dag_gcs_prefix)
}

resource "google_service_account" "environment" {
  project      = var.project_id
  account_id   = length(local.account_id) >= 6 ? local.account_id : "${local.account_id}-sa"
  display_name = "Composer environment ${var.name}"
}

resource "google_project_iam_member" "worker" {
  project = var.project_id
  role    = "roles/composer.worker"
  member  = google_service_account.environment.member
}

# Composer 2 and Composer 3 images: both take the software settings and the node's service account
# below; the organisation's defaults fill in the rest (environment size, networking).
resource "google_composer_environment" "this" {
  project = var.project_id
  name    = var.name
  region  = var.region
  labels  = local.labels

  config {
    software_config {
      image_version            = var.image_version
      airflow_config_overrides = var.airflow_config_overrides
      pypi_packages            = local.pypi_packages
      env_variables            = var.env_variables
    }

    node_config {
      service_account = google_service_account.environment.email
    }
  }

  depends_on = [google_project_iam_member.worker]
}
