from django.urls import path

from deployments import live_views, views

ROW = "projects/<slug:slug>/deployments/<slug:environment>/<slug:target>/"

urlpatterns = [
    path("projects/<slug:slug>/deploy/", views.project_deploy, name="project_deploy"),
    path("projects/<slug:slug>/deployments/", views.project_deployments, name="project_deployments"),
    path("projects/<slug:slug>/configuration/", views.project_configuration, name="project_configuration"),
    path(f"{ROW}history/", views.deployment_history, name="deployment_history"),
    path(f"{ROW}redeploy/", views.deployment_redeploy, name="deployment_redeploy"),
    path(f"{ROW}state/", views.deployment_state, name="deployment_state"),
    path(f"{ROW}state/unlock/", views.deployment_force_unlock, name="deployment_force_unlock"),
    path(f"{ROW}state/<int:version_id>/", views.state_version_download, name="state_version_download"),
    path("operations/", views.operations, name="operations"),
    path("runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("runs/<int:pk>/poll/", views.run_poll, name="run_poll"),
    path("runs/<int:pk>/events/", live_views.run_events, name="run_events"),
    path("runs/<int:pk>/cancel/", views.run_cancel, name="run_cancel"),
    path("runs/<int:pk>/approve/", views.run_approve, name="run_approve"),
    path("runs/<int:pk>/log/", views.run_log_download, name="run_log_download"),
]
