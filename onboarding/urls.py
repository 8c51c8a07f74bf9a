from django.urls import path

from onboarding import views
from onboarding.shared_composer import urls as shared_composer_urls

urlpatterns = [
    *shared_composer_urls.urlpatterns,
    path("projects/", views.project_list, name="project_list"),
    path("projects/register/", views.register_details, name="register_details"),
    path("projects/register/confirm/", views.register_confirm, name="register_confirm"),
    path("projects/<slug:slug>/registered/", views.register_summary, name="register_summary"),
    path("projects/<slug:slug>/", views.project_detail, name="project_detail"),
    # The other tabs (deploy, deployments, artifacts) are served by the deployments app.
    *[
        path(f"projects/<slug:slug>/{tab}/", views.project_detail, {"tab": tab}, name=f"project_{tab}")
        for tab in ("details",)
    ],
    path("projects/<slug:slug>/details/approval/", views.project_prod_approval, name="project_prod_approval"),
    path("projects/<slug:slug>/details/auto-apply/", views.project_auto_apply, name="project_auto_apply"),
    path("teams/", views.team_list, name="team_list"),
    path("teams/new/", views.team_create, name="team_create"),
    path("teams/<slug:slug>/", views.team_detail, name="team_detail"),
    path("teams/<slug:slug>/members/", views.team_member_set, name="team_member_set"),
    path("teams/<slug:slug>/members/<str:username>/remove/", views.team_member_remove, name="team_member_remove"),
]
