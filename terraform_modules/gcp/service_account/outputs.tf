output "email" {
  description = "<account_id>@<project>.iam.gserviceaccount.com"
  value       = google_service_account.this.email
}

output "id" {
  description = "projects/<project>/serviceAccounts/<email>"
  value       = google_service_account.this.id
}

output "member" {
  description = "serviceAccount:<email>, ready for IAM members lists."
  value       = google_service_account.this.member
}
