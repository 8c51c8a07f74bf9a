# One member, not the whole role: several impersonators of one account must not
# overwrite each other (the binding-per-role resource would).
resource "localcloud_iam_member" "token_creator" {
  service_account = var.service_account_email
  role            = "roles/iam.serviceAccountTokenCreator"
  member          = "serviceAccount:${var.impersonator_email}"
}
