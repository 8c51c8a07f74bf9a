"""The tabs of a project's page. Onboarding serves Overview and Details; the deployments
app serves the others under the same /projects/<slug>/ address."""

PROJECT_TABS = [
    ("overview", "Overview"),
    ("deploy", "Deploy cloud infrastructure"),  # deployments.pages
    ("deployments", "Deployments / History"),  # deployments.pages
    ("sandboxes", "Sandboxes"),  # deployments.sandboxes
    ("artifacts", "Artifacts"),  # deployments.artifacts
    ("configuration", "Configuration"),  # deployments.pages
    ("notifications", "Notifications"),  # notifications
    ("details", "Details"),
]
