variable "project_id" {
  description = "The project the role is granted on (e.g. the shared Composer environment's project)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,61}[a-z0-9]$", var.project_id))
    error_message = "The project_id is 6-63 lowercase letters, digits and hyphens, starting with a letter (e.g. sc-1-msc-dev)."
  }
}

variable "role" {
  description = "A role grantable on a project, e.g. roles/composer.user."
  type        = string

  validation {
    condition     = can(regex("^roles/[A-Za-z0-9_.]+$", var.role))
    error_message = "The role looks like roles/<service>.<role>, e.g. roles/composer.user."
  }
}

variable "member" {
  description = "Who gets the role: group:<email>, user:<email> or serviceAccount:<email>."
  type        = string

  validation {
    condition     = can(regex("^(group|user|serviceAccount):[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.member))
    error_message = "The member is group:<email>, user:<email> or serviceAccount:<email>."
  }
}
