output "id" {
  description = "The grants' ids, one per member, joined by \",\"."
  value       = join(",", [for member in sort(var.members) : google_storage_bucket_iam_member.this[member].id])
}
