variable "project_id" {
  description = "The project (sc-<id>-<name>-<env>)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,61}[a-z0-9]$", var.project_id))
    error_message = "The project_id is 6-63 lowercase letters, digits and hyphens, starting with a letter (e.g. sc-20050-kpis-dev)."
  }
}

variable "dataset_id" {
  description = "The dataset holding the table."
  type        = string
}

variable "table_id" {
  description = "BigQuery table id: letters, digits and underscores."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_]+$", var.table_id)) && length(var.table_id) <= 1024
    error_message = "The table_id may contain only letters, digits and underscores (at most 1024)."
  }
}

variable "description" {
  description = "What the table holds."
  type        = string
  default     = ""
}

variable "schema" {
  description = "BigQuery JSON schema text: a list of fields {name, type, mode, description, fields}."
  type        = string

  validation {
    condition     = can(length(jsondecode(var.schema)) > 0)
    error_message = "The schema must be a non-empty JSON list of fields, as written by bq show --schema."
  }
}

variable "gdpr_labels" {
  description = "GDPR classification labels, merged into the table's labels."
  type        = map(string)
  default     = {}
}

variable "time_partitioning" {
  description = "null for none, or { type = DAY|HOUR|MONTH|YEAR (default DAY), field = <DATE/TIMESTAMP/DATETIME column> }; without field, ingestion time."
  type        = map(string)
  default     = null

  validation {
    condition = var.time_partitioning == null ? true : (
      contains(["DAY", "HOUR", "MONTH", "YEAR"], upper(lookup(var.time_partitioning, "type", "DAY"))) &&
      length(setsubtract(keys(var.time_partitioning), ["type", "field", "expiration_ms"])) == 0
    )
    error_message = "The time_partitioning keys are type (DAY, HOUR, MONTH or YEAR) and field (a column name)."
  }
}

variable "clustering" {
  description = "Up to 4 top-level columns to cluster by."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.clustering) <= 4
    error_message = "A table is clustered by at most 4 columns."
  }
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

variable "deletion_protection" {
  description = "While true (the default), destroying or replacing the table fails and its rows are kept. To remove the table on purpose: set false, apply that, then remove it."
  type        = bool
  default     = true

  validation {
    condition     = var.deletion_protection != null
    error_message = "The deletion_protection is true or false; leave it out for true."
  }
}
