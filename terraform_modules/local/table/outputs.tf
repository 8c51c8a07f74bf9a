output "table_id" {
  description = "The table id."
  value       = localcloud_table.this.table_id
}

output "id" {
  description = "projects/<project>/datasets/<dataset_id>/tables/<table_id>"
  value       = localcloud_table.this.id
}

output "columns" {
  description = "Top-level column names."
  value       = localcloud_table.this.columns
}
