# One member, not the whole role: other grants of the same role on the project stay as they are.
resource "google_project_iam_member" "this" {
  project = var.project_id
  role    = var.role
  member  = var.member
}
