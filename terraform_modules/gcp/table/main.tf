locals {
  labels = merge(var.labels, var.gdpr_labels, { team = var.team, managed_by = "hangar" })
  # An omitted type means daily partitions, the organisation's default.
  time_partitioning = var.time_partitioning == null ? [] : [{
    type          = upper(lookup(var.time_partitioning, "type", "DAY"))
    field         = lookup(var.time_partitioning, "field", "") != "" ? var.time_partitioning["field"] : null
    expiration_ms = lookup(var.time_partitioning, "expiration_ms", "") != "" ? tonumber(var.time_partitioning["expiration_ms"]) : null
  }]
}

resource "google_bigquery_table" "this" {
  project     = var.project_id
  dataset_id  = var.dataset_id
  table_id    = var.table_id
  description = var.description != "" ? var.description : null
  # BigQuery JSON schema: nested RECORD fields and REPEATED modes are passed as they are.
  schema     = var.schema
  labels     = local.labels
  clustering = length(var.clustering) > 0 ? var.clustering : null
  # While true the table cannot be destroyed or replaced: set false, apply, then remove it.
  deletion_protection = var.deletion_protection

  dynamic "time_partitioning" {
    for_each = local.time_partitioning
    content {
      type          = time_partitioning.value.type
      field         = time_partitioning.value.field
      expiration_ms = time_partitioning.value.expiration_ms
    }
  }
}
