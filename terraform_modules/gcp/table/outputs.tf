output "table_id" {
  description = "The table id."
  value       = google_bigquery_table.this.table_id
}

output "id" {
  description = "projects/<project>/datasets/<dataset_id>/tables/<table_id>"
  value       = google_bigquery_table.this.id
}

output "columns" {
  description = "Top-level column names."
  value       = [for field in jsondecode(var.schema) : field.name]
}
