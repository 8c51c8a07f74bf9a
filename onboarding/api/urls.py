from django.urls import path
from rest_framework.routers import DefaultRouter

from onboarding.api.views import EnvironmentView, ProjectViewSet, TeamViewSet

router = DefaultRouter()
router.register("teams", TeamViewSet, basename="team")
router.register("projects", ProjectViewSet, basename="project")
urlpatterns = [
    path("projects/<slug:slug>/environments/<str:name>/", EnvironmentView.as_view(), name="api_environment"),
    *router.urls,
]
