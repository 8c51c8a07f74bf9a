from django.urls import path

from tokens import api, views

urlpatterns = [
    path("profile/tokens/", views.profile_tokens, name="profile_tokens"),
    path("profile/tokens/<str:digest>/revoke/", views.profile_token_revoke, name="profile_token_revoke"),
    path("projects/<slug:slug>/details/tokens/", views.project_token_create, name="project_token_create"),
    path(
        "projects/<slug:slug>/details/tokens/<str:digest>/revoke/",
        views.project_token_revoke,
        name="project_token_revoke",
    ),
]

api_urlpatterns = [
    path("me/", api.MeView.as_view(), name="api_me"),
]
