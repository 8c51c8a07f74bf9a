output "id" {
  description = "The grant's id: <target> <role> <member>."
  value       = localcloud_iam_member.token_creator.id
}
