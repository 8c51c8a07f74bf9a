output "id" {
  description = "projects/<project>/locations/<region>/environments/<name>"
  value       = google_composer_environment.this.id
}

output "dag_bucket" {
  description = "Name of the environment's bucket."
  value       = local.dag_location[0]
}

output "dag_folder" {
  description = "Prefix of the DAGs in dag_bucket (dags/)."
  value       = "${local.dag_location[1]}/"
}

output "dag_gcs_prefix" {
  description = "gs://<dag_bucket>/dags"
  value       = local.dag_gcs_prefix
}

output "service_account" {
  description = "Email of the service account the environment runs as."
  value       = google_service_account.environment.email
}

output "airflow_uri" {
  description = "The Airflow web UI."
  value       = google_composer_environment.this.config[0].airflow_uri
}
