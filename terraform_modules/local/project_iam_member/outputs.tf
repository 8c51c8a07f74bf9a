output "id" {
  description = "The grant's id: projects/<project> <role> <member>."
  value       = localcloud_iam_member.this.id
}
