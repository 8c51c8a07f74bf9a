output "id" {
  description = "The binding's id: buckets/<bucket> <role>[ <prefix>]."
  value       = localcloud_iam_binding.this.id
}
