from django.urls import path

from deployments.sandboxes import api, views

urlpatterns = [
    path("projects/<slug:slug>/sandboxes/", views.project_sandboxes_page, name="project_sandboxes"),
    path("projects/<slug:slug>/sandboxes/<int:pk>/extend/", views.sandbox_extend, name="sandbox_extend"),
    path("projects/<slug:slug>/sandboxes/<int:pk>/destroy/", views.sandbox_destroy, name="sandbox_destroy"),
]

api_urlpatterns = [
    path("projects/<slug:slug>/sandboxes/", api.SandboxListView.as_view(), name="api_sandboxes"),
    path("projects/<slug:slug>/sandboxes/<int:pk>/", api.SandboxDetailView.as_view(), name="api_sandbox"),
    path("projects/<slug:slug>/sandboxes/<int:pk>/extend/", api.SandboxExtendView.as_view(), name="api_sandbox_extend"),
]
