locals {
  # Object names under the prefix; IAM conditions on a bucket need uniform bucket-level access,
  # which Composer's buckets have.
  object_prefix = "projects/_/buckets/${var.bucket}/objects/${var.prefix}"
}

# One member at a time, each limited by an IAM condition to the prefix (Cloud Storage has no
# per-folder binding): other grants on the bucket stay as they are.
resource "google_storage_bucket_iam_member" "this" {
  for_each = toset(var.members)

  bucket = var.bucket
  role   = var.role
  member = each.value

  dynamic "condition" {
    for_each = var.prefix != "" ? [var.prefix] : []
    content {
      title       = "hangar-prefix"
      description = "Only objects under ${condition.value}"
      expression  = "resource.name.startsWith(\"${local.object_prefix}\")"
    }
  }
}
