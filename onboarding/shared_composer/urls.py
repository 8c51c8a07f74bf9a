from django.urls import path

from onboarding.shared_composer import views as shared_views

urlpatterns = [
    path("projects/<slug:slug>/shared-composer/leave/", shared_views.shared_offboard, name="shared_offboard"),
    path("projects/<slug:slug>/shared-composer/dags/", shared_views.shared_dags_deploy, name="shared_dags_deploy"),
    path("shared-composer/", shared_views.shared_environment, name="shared_environment"),
    path("shared-composer/adoption/", shared_views.shared_adoption, name="shared_adoption"),
    path("shared-composer/onboard/", shared_views.shared_onboard_details, name="shared_onboard_details"),
    path("shared-composer/onboard/confirm/", shared_views.shared_onboard_confirm, name="shared_onboard_confirm"),
    path("shared-composer/changes/<int:pk>/", shared_views.shared_change, name="shared_change"),
    path("shared-composer/changes/<int:pk>/runs/", shared_views.shared_change_runs, name="shared_change_runs"),
    path("shared-composer/changes/<int:pk>/approve/", shared_views.shared_change_approve, name="shared_change_approve"),
]
