variable "project_id" {
  description = "The project (sc-<id>-<name>-<env>)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,61}[a-z0-9]$", var.project_id))
    error_message = "The project_id is 6-63 lowercase letters, digits and hyphens, starting with a letter (e.g. sc-20050-kpis-dev)."
  }
}

variable "name" {
  description = "Environment name: lowercase letters, digits and hyphens, starting with a letter."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,62}[a-z0-9]$", var.name))
    error_message = "The name is 2-64 lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "image_version" {
  description = "Composer image; default the organisation's current one."
  type        = string
  default     = "composer-2.9.7-airflow-2.9.3"

  validation {
    condition     = can(regex("^composer-[0-9]+(\\.[0-9]+\\.[0-9]+)?(-preview\\.[0-9]+)?-airflow-[0-9]+(\\.[0-9]+){0,2}$", var.image_version))
    error_message = "The image_version looks like composer-2.9.7-airflow-2.9.3."
  }
}

variable "region" {
  description = "Region of the environment."
  type        = string
  default     = "europe-west1"
}

variable "airflow_config_overrides" {
  description = "Airflow configuration, keys <section>-<key> (e.g. smtp-smtp_host)."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.airflow_config_overrides) : can(regex("^[a-z0-9_.]+-[A-Za-z0-9_]+$", k))])
    error_message = "Keys of airflow_config_overrides are <section>-<key>, e.g. smtp-smtp_host."
  }
}

variable "pypi_packages" {
  description = "Extra PyPI packages: name = version specifier (\"==2.0.0\", \">=1,<2\", \"\" for any)."
  type        = map(string)
  default     = {}
}

variable "env_variables" {
  description = "Environment variables of Airflow's processes."
  type        = map(string)
  default     = {}
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
