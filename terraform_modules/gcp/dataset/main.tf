locals {
  # Mandatory labels win over custom ones.
  labels = merge(var.labels, { team = var.team, managed_by = "hangar" })
}

resource "google_bigquery_dataset" "this" {
  project                    = var.project_id
  dataset_id                 = var.dataset_id
  description                = var.description != "" ? var.description : null
  location                   = var.location
  labels                     = local.labels
  delete_contents_on_destroy = var.delete_contents_on_destroy
}
