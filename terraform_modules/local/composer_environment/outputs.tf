output "id" {
  description = "projects/<project>/locations/<region>/environments/<name>"
  value       = localcloud_composer_environment.this.id
}

output "dag_bucket" {
  description = "Name of the environment's bucket."
  value       = localcloud_composer_environment.this.dag_bucket
}

output "dag_folder" {
  description = "Prefix of the DAGs in dag_bucket (dags/)."
  value       = localcloud_composer_environment.this.dag_folder
}

output "dag_gcs_prefix" {
  description = "gs://<dag_bucket>/dags"
  value       = localcloud_composer_environment.this.dag_gcs_prefix
}

output "service_account" {
  description = "Email of the service account the environment runs as."
  value       = localcloud_composer_environment.this.service_account
}

output "airflow_uri" {
  description = "The Airflow web UI."
  value       = localcloud_composer_environment.this.airflow_uri
}
