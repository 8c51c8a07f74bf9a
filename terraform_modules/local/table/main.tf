locals {
  labels = merge(var.labels, var.gdpr_labels, { team = var.team, managed_by = "hangar" })
  # An omitted type means daily partitions, the organisation's default.
  time_partitioning = var.time_partitioning == null ? null : merge(
    { type = upper(lookup(var.time_partitioning, "type", "DAY")) },
    { for k, v in var.time_partitioning : k => v if k != "type" && v != "" },
  )
}

resource "localcloud_table" "this" {
  project           = var.project_id
  dataset_id        = var.dataset_id
  table_id          = var.table_id
  description       = var.description
  schema            = var.schema
  labels            = local.labels
  time_partitioning = local.time_partitioning
  clustering        = length(var.clustering) > 0 ? var.clustering : null
  # While true the table cannot be destroyed or replaced: set false, apply, then remove it.
  deletion_protection = var.deletion_protection
}
