from django.urls import path

from deployments.drift import api, views
from deployments.pages.rows import ROW

urlpatterns = [
    path(f"{ROW}drift/", views.deployment_drift, name="deployment_drift"),
    path(f"{ROW}drift/check/", views.deployment_drift_check, name="deployment_drift_check"),
]

api_urlpatterns = [
    path(f"{ROW}check/", api.DriftCheckStartView.as_view(), name="api_drift_check_start"),
    path("drift-checks/<int:pk>/", api.DriftCheckDetailView.as_view(), name="api_drift_check"),
]
