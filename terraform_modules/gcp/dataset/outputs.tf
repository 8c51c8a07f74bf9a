output "dataset_id" {
  description = "The dataset id (use it as the table module's dataset_id, so tables wait for the dataset)."
  value       = google_bigquery_dataset.this.dataset_id
}

output "id" {
  description = "projects/<project>/datasets/<dataset_id>"
  value       = google_bigquery_dataset.this.id
}
