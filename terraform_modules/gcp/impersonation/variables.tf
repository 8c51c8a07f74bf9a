variable "service_account_email" {
  description = "The service account to be impersonated (e.g. a project's compute account)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z][a-z0-9-]{4,61}[a-z0-9]\\.iam\\.gserviceaccount\\.com$", var.service_account_email))
    error_message = "The service_account_email looks like <account>@<project>.iam.gserviceaccount.com."
  }
}

variable "impersonator_email" {
  description = "Who may impersonate it (e.g. the shared scheduler's or a Composer environment's service account)."
  type        = string

  validation {
    condition     = can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.impersonator_email))
    error_message = "The impersonator_email is a service account email."
  }
}
