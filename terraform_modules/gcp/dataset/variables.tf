variable "project_id" {
  description = "The project (sc-<id>-<name>-<env>)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,61}[a-z0-9]$", var.project_id))
    error_message = "The project_id is 6-63 lowercase letters, digits and hyphens, starting with a letter (e.g. sc-20050-kpis-dev)."
  }
}

variable "dataset_id" {
  description = "BigQuery dataset id: letters, digits and underscores, at most 1024."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_]+$", var.dataset_id)) && length(var.dataset_id) <= 1024
    error_message = "The dataset_id may contain only letters, digits and underscores (at most 1024)."
  }
}

variable "description" {
  description = "What the dataset holds."
  type        = string
  default     = ""
}

variable "location" {
  description = "Where the data lives; the organisation keeps data in the EU."
  type        = string
  default     = "EU"

  validation {
    condition     = can(regex("^(EU|US|[a-z]+-[a-z]+[0-9]+)$", var.location))
    error_message = "The location is EU, US or a region such as europe-west1."
  }
}

variable "delete_contents_on_destroy" {
  description = "Let terraform destroy remove a dataset that still has tables."
  type        = bool
  default     = false
}

variable "team" {
  description = "Owning team; becomes the mandatory label `team`."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9_-]{0,62}$", var.team))
    error_message = "The team must be a label value: 1-63 lowercase letters, digits, \"_\" or \"-\", starting with a letter."
  }
}

variable "labels" {
  description = "Custom labels (lowercase keys and values); team and managed_by are added."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.labels : can(regex("^[a-z][a-z0-9_-]{0,62}$", k)) && can(regex("^[a-z0-9_-]{0,63}$", v))])
    error_message = "Label keys are 1-63 lowercase letters, digits, \"_\" or \"-\" starting with a letter; values are 0-63 of the same."
  }
}
