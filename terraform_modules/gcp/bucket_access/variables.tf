variable "bucket" {
  description = "Bucket name (e.g. the shared Composer environment's dag_bucket)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$", var.bucket))
    error_message = "The bucket is a bucket name: 3-63 lowercase letters, digits, \"-\", \"_\" and \".\"."
  }
}

variable "prefix" {
  description = "Object prefix the grant is limited to, e.g. dags/<project>/; \"\" for the whole bucket."
  type        = string
  default     = ""

  validation {
    condition     = var.prefix == "" || can(regex("^[^/*][^*]*/$", var.prefix))
    error_message = "The prefix is \"\" or a relative folder ending in \"/\", e.g. dags/sc-123-example-dev/."
  }
}

variable "role" {
  description = "A Cloud Storage role."
  type        = string
  default     = "roles/storage.objectAdmin"

  validation {
    condition     = can(regex("^roles/storage\\.", var.role))
    error_message = "The role is a Cloud Storage role such as roles/storage.objectAdmin or roles/storage.objectViewer."
  }
}

variable "members" {
  description = "Who gets the role: group:<email>, user:<email>, serviceAccount:<email>."
  type        = list(string)

  validation {
    condition     = length(var.members) > 0
    error_message = "Give at least one member, e.g. group:my-team@example.com."
  }
}
