from django.urls import path

from deployments.pages.rows import ROW
from deployments.state import views

# Terraform's http backend: GET, POST, LOCK and UNLOCK at one address per deployment.
backend_urlpatterns = [
    path("state/<int:deployment_id>/", views.state_endpoint, name="state"),
]

urlpatterns = [
    path(f"{ROW}state/", views.deployment_state, name="deployment_state"),
    path(f"{ROW}state/unlock/", views.deployment_force_unlock, name="deployment_force_unlock"),
    path(f"{ROW}state/free-slot/", views.deployment_free_slot, name="deployment_free_slot"),
    path(f"{ROW}state/<int:version_id>/", views.state_version_download, name="state_version_download"),
    path(f"{ROW}state/errored/<int:errored_id>/", views.errored_state_download, name="errored_state_download"),
    path(f"{ROW}state/errored/<int:errored_id>/push/", views.errored_state_push, name="errored_state_push"),
]
