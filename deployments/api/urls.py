from django.urls import path

from deployments.api import views

urlpatterns = [
    path("projects/<slug:slug>/artifacts/", views.ArtifactListView.as_view(), name="api_artifacts"),
    path("projects/<slug:slug>/deployments/", views.DeploymentListView.as_view(), name="api_deployments"),
    path("runs/", views.RunListView.as_view(), name="api_runs"),
    path("runs/<int:pk>/", views.RunDetailView.as_view(), name="api_run"),
    path("runs/<int:pk>/logs/", views.RunLogView.as_view(), name="api_run_logs"),
    path("runs/<int:pk>/cancel/", views.RunCancelView.as_view(), name="api_run_cancel"),
    path("runs/<int:pk>/approve/", views.RunApproveView.as_view(), name="api_run_approve"),
]
