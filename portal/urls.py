from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from deployments.state_views import state_endpoint
from onboarding import views as onboarding_views
from portal import views

urlpatterns = [
    path("", onboarding_views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api_schema"), name="api_docs"),
    path("api/", include("deployments.api.urls")),
    path("api/", include("onboarding.api.urls")),
    path("state/<int:deployment_id>/", state_endpoint, name="state"),
    path("", include("deployments.run_urls")),
    path("", include("deployments.urls")),
    path("", include("onboarding.urls")),
]
