locals {
  # <account>@<project>.iam.gserviceaccount.com: the account's project is in its email.
  account_project = trimsuffix(split("@", var.service_account_email)[1], ".iam.gserviceaccount.com")
}

# One member, not the whole role: several impersonators of one account must not
# overwrite each other (google_service_account_iam_binding would).
resource "google_service_account_iam_member" "token_creator" {
  service_account_id = "projects/${local.account_project}/serviceAccounts/${var.service_account_email}"
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "serviceAccount:${var.impersonator_email}"
}
