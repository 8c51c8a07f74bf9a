from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from deployments import urls as deployments_urls
from onboarding import views as onboarding_views
from portal import views
from tokens import urls as tokens_urls

urlpatterns = [
    path("", onboarding_views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api_schema"), name="api_docs"),
    path("api/", include(deployments_urls.api_urlpatterns)),
    path("api/", include("onboarding.api.urls")),
    path("api/", include(tokens_urls.api_urlpatterns)),
    *deployments_urls.state_backend_urlpatterns,
    path("", include(deployments_urls.urlpatterns)),
    path("", include("notifications.urls")),
    path("", include("onboarding.urls")),
    path("", include(tokens_urls.urlpatterns)),
]
