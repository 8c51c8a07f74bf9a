from rest_framework.routers import DefaultRouter

from onboarding.api.views import ProjectViewSet, TeamViewSet

router = DefaultRouter()
router.register("teams", TeamViewSet, basename="team")
router.register("projects", ProjectViewSet, basename="project")
urlpatterns = router.urls
