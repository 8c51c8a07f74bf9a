terraform {
  required_version = ">= 1.0"

  required_providers {
    localcloud = {
      source = "hangar.local/hangar/localcloud"
    }
  }
}
