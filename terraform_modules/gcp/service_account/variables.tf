variable "project_id" {
  description = "The project (sc-<id>-<name>-<env>)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,61}[a-z0-9]$", var.project_id))
    error_message = "The project_id is 6-63 lowercase letters, digits and hyphens, starting with a letter (e.g. sc-20050-kpis-dev)."
  }
}

variable "account_id" {
  description = "The part before @: 6-30 lowercase letters, digits and hyphens."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.account_id))
    error_message = "The account_id is 6-30 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen."
  }
}

variable "display_name" {
  description = "Human-readable name; default \"<account_id> (managed by Hangar)\"."
  type        = string
  default     = ""
}
