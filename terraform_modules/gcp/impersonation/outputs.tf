output "id" {
  description = "The grant's id: <target> <role> <member>."
  value       = google_service_account_iam_member.token_creator.id
}
