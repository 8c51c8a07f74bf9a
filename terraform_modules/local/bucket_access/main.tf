# Authoritative for this role on this prefix: the members listed here are all of them.
resource "localcloud_iam_binding" "this" {
  bucket  = var.bucket
  prefix  = var.prefix != "" ? var.prefix : null
  role    = var.role
  members = var.members
}
