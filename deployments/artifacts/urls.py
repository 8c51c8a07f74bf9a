"""Artifact pages, under /projects/<slug>/artifacts/, and the artifact API."""

from django.urls import path

from deployments.artifacts import api
from deployments.artifacts import views as artifact_views

urlpatterns = [
    # Artifacts: "starter" and "diff" come before <version>, which they can never be (versions are semantic).
    path("projects/<slug:slug>/artifacts/", artifact_views.artifact_list, name="project_artifacts"),
    path("projects/<slug:slug>/artifacts/starter/", artifact_views.starter_download, name="artifact_starter"),
    path("projects/<slug:slug>/artifacts/diff/", artifact_views.artifact_diff, name="artifact_diff"),
    path("projects/<slug:slug>/artifacts/<str:version>/", artifact_views.artifact_detail, name="artifact_detail"),
    path(
        "projects/<slug:slug>/artifacts/<str:version>/download/",
        artifact_views.artifact_download,
        name="artifact_download",
    ),
    path(
        "projects/<slug:slug>/artifacts/<str:version>/files/<path:path>",
        artifact_views.artifact_file,
        name="artifact_file",
    ),
]

api_urlpatterns = [
    path("projects/<slug:slug>/artifacts/", api.ArtifactListView.as_view(), name="api_artifacts"),
]
