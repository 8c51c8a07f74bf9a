output "id" {
  description = "The grant's id: <project> <role> <member>."
  value       = google_project_iam_member.this.id
}
