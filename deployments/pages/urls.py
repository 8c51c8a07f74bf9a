from django.urls import path

from deployments.pages import api, views
from deployments.pages.rows import ROW

urlpatterns = [
    path("projects/<slug:slug>/deploy/", views.project_deploy, name="project_deploy"),
    path("projects/<slug:slug>/deployments/", views.project_deployments, name="project_deployments"),
    path("projects/<slug:slug>/configuration/", views.project_configuration, name="project_configuration"),
    path(f"{ROW}history/", views.deployment_history, name="deployment_history"),
    path(f"{ROW}redeploy/", views.deployment_redeploy, name="deployment_redeploy"),
    path(f"{ROW}accept-reality/", views.deployment_accept_reality, name="deployment_accept_reality"),
]

api_urlpatterns = [
    path("projects/<slug:slug>/deployments/", api.DeploymentListView.as_view(), name="api_deployments"),
]
